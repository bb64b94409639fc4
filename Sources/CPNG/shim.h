// libpng (Debian: libpng-dev; flags from pkg-config "libpng"). Only its simplified API is used
// (png_image_write_to_memory): it reports errors in png_image.message instead of longjmp-ing through Swift.
#include <png.h>

// C interface of the OpenEXR shim: header facts and pixel decoding from an in-memory file, and writing.
// Every entry point catches all C++ exceptions and reports them as a message; none of them aborts.
#ifndef HP_EXR_H
#define HP_EXR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Pixel types, numbered as in the OpenEXR file format.
enum { HP_PIXEL_UINT = 0, HP_PIXEL_HALF = 1, HP_PIXEL_FLOAT = 2 };

/// Storage kinds, numbered as OpenEXRCore's exr_storage_t.
enum { HP_STORAGE_SCANLINE = 0, HP_STORAGE_TILED = 1, HP_STORAGE_DEEP_SCANLINE = 2, HP_STORAGE_DEEP_TILED = 3 };

/// Tile level modes, numbered as in the file format.
enum { HP_LEVEL_ONE = 0, HP_LEVEL_MIPMAP = 1, HP_LEVEL_RIPMAP = 2 };

typedef struct {
    int32_t storage;                    ///< HP_STORAGE_*
    int32_t compression;                ///< file-format compression id (0 none ... 9 DWAB)
    int32_t dw_min_x, dw_min_y, dw_max_x, dw_max_y;   ///< data window, inclusive
    int32_t disp_min_x, disp_min_y, disp_max_x, disp_max_y;
    int32_t tile_x, tile_y;             ///< tile size, 0 for scanline parts
    int32_t level_mode;                 ///< HP_LEVEL_* (tiled parts)
    int32_t levels_x, levels_y;         ///< number of levels (tiled parts)
    int32_t channel_count;
} hp_exr_part_info;

typedef struct {
    const char* name;                   ///< valid while the handle is open
    int32_t pixel_type;                 ///< HP_PIXEL_*
    int32_t x_sampling, y_sampling;
} hp_exr_channel;

typedef struct hp_exr_handle hp_exr_handle;

/// Opens an EXR file held in memory. `bytes` must stay valid until hp_exr_close.
/// Validates every header with OpenEXRCore, refuses any part whose data window exceeds `max_pixels`,
/// before anything is allocated for pixels. Returns 0 on success; otherwise writes a message to `err`.
int hp_exr_open(const void* bytes, size_t size, uint64_t max_pixels,
                hp_exr_handle** out, char* err, size_t err_len);
void hp_exr_close(hp_exr_handle* h);

int hp_exr_part_count(const hp_exr_handle* h);
/// The part's name attribute, or NULL when the part has none (single-part files usually don't).
const char* hp_exr_part_name(const hp_exr_handle* h, int part);
int hp_exr_get_part_info(const hp_exr_handle* h, int part, hp_exr_part_info* out, char* err, size_t err_len);
int hp_exr_get_channel(const hp_exr_handle* h, int part, int index, hp_exr_channel* out);

/// Decodes level 0 of `part` into float planes of dw_width x dw_height, one plane per name.
/// Before decoding, every chunk of the level is located and checked against the file size with OpenEXRCore.
int hp_exr_read_planes(hp_exr_handle* h, int part, int count, const char* const* names,
                       float* const* planes, int threads, char* err, size_t err_len);

/// Decodes a luminance/chroma (Y, RY, BY) part to RGB planes through Imf's RGBA interface.
int hp_exr_read_luminance_chroma(hp_exr_handle* h, int part, float* r, float* g, float* b,
                                 int threads, char* err, size_t err_len);

/// One part to write. Planes are float, width x height each, row-major; `pixel_types` chooses the stored type.
typedef struct {
    const char* name;                   ///< part name; required when writing several parts
    int32_t width, height;
    int32_t origin_x, origin_y;         ///< data window origin
    int32_t channel_count;
    const char* const* channel_names;
    const int32_t* pixel_types;
    const float* const* planes;
    int32_t compression;
    int32_t tiled;                      ///< 0 scanline, 1 tiled
    int32_t tile_x, tile_y;
    int32_t level_mode;                 ///< HP_LEVEL_*; lower levels are box-filtered from level 0
    float dwa_level;                    ///< DWA compression level; <= 0 keeps the library default (45)
} hp_exr_part_desc;

/// Sizes Imf's global worker pool (decoding and encoding chunks in parallel); 0 decodes serially.
void hp_exr_set_global_threads(int threads);

/// Writes `count` parts to `path` (a single-part file when count == 1).
int hp_exr_write(const char* path, const hp_exr_part_desc* parts, int count, int threads,
                 char* err, size_t err_len);

/// Writes RGB planes as a luminance/chroma (Y, RY, BY) file through Imf's RGBA interface.
int hp_exr_write_luminance_chroma(const char* path, int width, int height, const float* r, const float* g,
                                  const float* b, char* err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif

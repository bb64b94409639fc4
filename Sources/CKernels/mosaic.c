// Mosaics for Winograd on small images (Sources/Numerics/Ops/UNetStack.swift). A Winograd tile vector holds the
// tiles of one tile row: on a 16 x 16 image 4 of an AVX-512 vector's 16 lanes. A mosaic lays bands of rows of
// several images side by side in one wide padded plane, so that its tile rows fill the lanes. Segment s holds
// band b of image i (s = i * bands + b), padded rows [b * band, b * band + band + 2) of the image at columns
// [s * seg, s * seg + w + 2), with seg a multiple of 4: every 4 x 4 output tile of the mosaic inside a segment is
// a tile of the image at the same alignment, so Winograd over the mosaic computes every output exactly as over
// the image (the same values through the same operations), and the tiles between segments are discarded.
#include "hp_kernels.h"

#include <string.h>

void hp_mosaic_gather(const float *src, size_t image, size_t plane, int images, int c, int h, int w, int band,
                      int seg, float *dst, size_t dplane) {
    const int wp = w + 2, bands = (h + band - 1) / band, mwp = bands * images * seg;
    for (int ch = 0; ch < c; ch++) {
        float *d = dst + (size_t)ch * dplane;
        memset(d, 0, sizeof(float) * dplane);
        for (int i = 0; i < images; i++) {
            const float *s = src + (size_t)i * image + (size_t)ch * plane;
            for (int b = 0; b < bands; b++) {
                float *sd = d + (size_t)(i * bands + b) * seg;
                for (int r = 0; r < band + 2; r++) {
                    const int pr = b * band + r;  // padded row of the image
                    if (pr > h + 1) break;
                    memcpy(sd + (size_t)r * mwp, s + (size_t)pr * wp, sizeof(float) * (size_t)wp);
                }
            }
        }
    }
}

void hp_mosaic_scatter(const float *src, size_t splane, int c, int h, int w, int band, int seg, int images,
                       float *dst, size_t image, size_t plane) {
    const int wp = w + 2, bands = (h + band - 1) / band, mwp = bands * images * seg;
    for (int ch = 0; ch < c; ch++) {
        const float *s = src + (size_t)ch * splane;
        for (int i = 0; i < images; i++) {
            float *d = dst + (size_t)i * image + (size_t)ch * plane;
            for (int b = 0; b < bands; b++) {
                const float *ss = s + (size_t)(i * bands + b) * seg;
                for (int r = 1; r <= band && b * band + r <= h; r++) {
                    memcpy(d + (size_t)(b * band + r) * wp + 1, ss + (size_t)r * mwp + 1, sizeof(float) * (size_t)w);
                }
            }
        }
    }
}

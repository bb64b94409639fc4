// Winograd F(4x4, 3x3) for 3x3 / stride 1 / padding 1 convolutions on the padded-width grid: run-time dispatch
// over the instruction-set variants of winograd_body.h, the weight transform and the weight gradient's inverse transform.
#include "hp_kernels.h"

#include <stdint.h>
#include <string.h>

#pragma clang fp contract(fast)

#if defined(__x86_64__) || defined(__i386__)
#define HP_X86 1
#endif

/// Tiles per chunk of the weight gradient: a chunk's transformed input and d output (36 x tiles x channels each)
/// stay in L2, and the transformed input's rows are a compile-time stride apart (row addresses are immediates).
#define WINO_GRAD_TILES 64

// Plain C: 4-float vectors.
typedef float hp_w4 __attribute__((vector_size(16)));
#define HP_SUFFIX generic
#define HP_TARGET
#define HP_VEC hp_w4
#define HP_VW 4
#define HP_MB 4
#define HP_NB 2
#define HP_WMB 4
#define HP_WNV 2
#define HP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define HP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#define HP_SHIFT(v, s, e) __builtin_shufflevector(v, s, 1, 2, 3, 4 + (e))
#define HP_ILO(a, b) __builtin_shufflevector(a, b, 0, 4, 1, 5)
#define HP_IHI(a, b) __builtin_shufflevector(a, b, 2, 6, 3, 7)
#include "winograd_body.h"

#ifdef HP_X86
typedef float hp_w8 __attribute__((vector_size(32)));
#define HP_FENCE_REGS 1
#define HP_PREFETCH_INPUT 1
#define HP_SUFFIX avx2
#define HP_TARGET __attribute__((target("avx2,fma")))
#define HP_VEC hp_w8
#define HP_VW 8
#define HP_MB 4
#define HP_NB 3
#define HP_WMB 6
#define HP_WNV 2
#define HP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define HP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#define HP_SHIFT(v, s, e) __builtin_shufflevector(v, s, 1, 2, 3, 4, 5, 6, 7, 8 + (e))
#define HP_ILO(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define HP_IHI(a, b) __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#include "winograd_body.h"

typedef float hp_w16 __attribute__((vector_size(64)));
#define HP_PREFETCH_INPUT 1
#define HP_SUFFIX avx512
#define HP_TARGET __attribute__((target("avx512f,avx2,fma")))
#define HP_VEC hp_w16
#define HP_VW 16
#define HP_MB 8
#define HP_NB 3
#define HP_WMB 12
#define HP_WNV 2
#define HP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define HP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define HP_SHIFT(v, s, e) __builtin_shufflevector(v, s, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 + (e))
#define HP_ILO(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define HP_IHI(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#include "winograd_body.h"
#endif

// Register block (HP_MB x HP_NB) and vector width of the variant hp_clamp_level(level) runs.
static int wino_mb(int level) { return hp_clamp_level(level) == HP_LEVEL_AVX512 ? 8 : 4; }
static int wino_vw(int level) { return hp_conv3x3_lanes(level); }
static int wino_nb(int level) { return hp_clamp_level(level) == HP_LEVEL_GENERIC ? 2 : 3; }

size_t hp_wino_packed_count(int level, int cout, int cin) {
    const int mb = wino_mb(level);
    return (size_t)36 * (size_t)((cout + mb - 1) / mb * mb) * (size_t)cin;
}

size_t hp_wino_scratch_count(int level, int cout, int cin) {
    const int mb = wino_mb(level), vw = wino_vw(level), nb = wino_nb(level);
    const size_t coutp = (size_t)((cout + mb - 1) / mb * mb);
    return 36 * ((size_t)cin + coutp) * (size_t)(nb * vw) + 6 * 5 * (size_t)vw + 16 * (size_t)vw + 16;
}

// G for the points 0, 1, -1, 1/2, -2, infinity (rows: the six transformed taps).
static const double wino_g[6][3] = {
    {1.0, 0.0, 0.0},
    {1.0 / 3, 1.0 / 3, 1.0 / 3},
    {-1.0 / 3, 1.0 / 3, -1.0 / 3},
    {-16.0 / 15, -8.0 / 15, -4.0 / 15},
    {1.0 / 15, -2.0 / 15, 4.0 / 15},
    {0.0, 0.0, 1.0},
};

// The transform of one block of mb output channels (mb a constant after inlining) for one input channel: the
// same operations in the same order for every channel, in lanes over the block; the block's packed values are
// contiguous for each transformed tap. A channel at a time, each of the 36 stores went to its own cache line.
static inline __attribute__((always_inline)) void wino_pack_block(const float *w, int cout, int cin, int adjoint,
                                                                  int pcout, int pcin, int coutp, int cb, int ci,
                                                                  float *packed, const int mb) {
    double g[9][8];
    for (int m = 0; m < mb; m++) {
        const int co = cb + m;
        for (int k = 0; k < 9; k++) {
            g[k][m] = co >= pcout ? 0.0 : adjoint ? w[((size_t)ci * cin + co) * 9 + (8 - k)] : w[((size_t)co * cin + ci) * 9 + k];
        }
    }
    double t[6][3][8];  // G g
    for (int a = 0; a < 6; a++)
        for (int c = 0; c < 3; c++)
            for (int m = 0; m < mb; m++) t[a][c][m] = wino_g[a][0] * g[c][m] + wino_g[a][1] * g[3 + c][m] + wino_g[a][2] * g[6 + c][m];
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            float *dst = packed + ((size_t)(a * 6 + b) * coutp + cb) * pcin + (size_t)ci * mb;
            for (int m = 0; m < mb; m++) dst[m] = (float)(t[a][0][m] * wino_g[b][0] + t[a][1][m] * wino_g[b][1] + t[a][2][m] * wino_g[b][2]);
        }
}

void hp_wino_pack(int level, const float *w, int cout, int cin, int adjoint, float *packed) {
    const int mb = wino_mb(level);
    const int pcout = adjoint ? cin : cout, pcin = adjoint ? cout : cin;
    const int coutp = (pcout + mb - 1) / mb * mb;
    for (int cb = 0; cb < coutp; cb += mb) {
        for (int ci = 0; ci < pcin; ci++) {
            if (mb == 8) {
                wino_pack_block(w, cout, cin, adjoint, pcout, pcin, coutp, cb, ci, packed, 8);
            } else {
                wino_pack_block(w, cout, cin, adjoint, pcout, pcin, coutp, cb, ci, packed, 4);
            }
        }
    }
}

void hp_wino_forward(int level, const float *packed, const float *bias, int cout, int cin, const float *x,
                     size_t plane, int h, int w, float *y, size_t ystride, float *scratch, int act, float slope,
                     const float *mask) {
    scratch = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);  // whole-line vector stores
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: wino_forward_avx512(packed, bias, cout, cin, x, plane, h, w, y, ystride, scratch, act, slope, mask); return;
    case HP_LEVEL_AVX2: wino_forward_avx2(packed, bias, cout, cin, x, plane, h, w, y, ystride, scratch, act, slope, mask); return;
#endif
    default: wino_forward_generic(packed, bias, cout, cin, x, plane, h, w, y, ystride, scratch, act, slope, mask); return;
    }
}

int hp_wino_lanes(int level) { return wino_vw(level); }

// Weight gradient. acc holds the transformed-domain sums [xi][ci][coutp] (coutp = cout rounded up to the vector).
static int wino_grad_coutp(int level, int cout) { const int vw = wino_vw(level); return (cout + vw - 1) / vw * vw; }

size_t hp_wino_grad_acc_count(int level, int cout, int cin) {
    return (size_t)36 * (size_t)cin * (size_t)wino_grad_coutp(level, cout);
}

size_t hp_wino_grad_scratch_count(int level, int cout, int cin) {
    const size_t tiles = WINO_GRAD_TILES, coutp = (size_t)wino_grad_coutp(level, cout);
    // V, D (xi stride padded by 16), H (16 pixel rows per 4 tile rows), the edge buffer, alignment.
    return (size_t)cin * 36 * tiles + 36 * (tiles * coutp + 16) + 16 * tiles * coutp + 6 * 5 * (size_t)wino_vw(level) + 16;
}

void hp_wino_weight_grad(int level, const float *dy, size_t dystride, int cout, const float *x, size_t plane, int cin,
                         int h, int w, float *scratch, float *acc) {
    scratch = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: wino_grad_avx512(dy, dystride, cout, x, plane, cin, h, w, scratch, acc); return;
    case HP_LEVEL_AVX2: wino_grad_avx2(dy, dystride, cout, x, plane, cin, h, w, scratch, acc); return;
#endif
    default: wino_grad_generic(dy, dystride, cout, x, plane, cin, h, w, scratch, acc); return;
    }
}

void hp_wino_grad_finish(int level, const float *acc, int cout, int cin, float *dw) {
    // Blocks of 16 output channels, whose sums are contiguous in acc (a cache line), in lanes: the same operations in
    // the same order per channel as one at a time (which read 36 values a cache line apart). A block's 36 rows lie
    // cin * coutp floats apart, in one cache set for a large layer; blocks of 8 read each line twice, evicted in
    // between by the other rows (w32 l3 step, 1 thread, `bench --layers`: the transforms 25 -> 16 ms).
    const size_t coutp = (size_t)wino_grad_coutp(level, cout);
    for (int ci = 0; ci < cin; ci++)
        for (int c0 = 0; c0 < cout; c0 += 16) {
            const int nc = cout - c0 < 16 ? cout - c0 : 16;
            double t[6][3][16];  // dU G
            for (int a = 0; a < 6; a++)
                for (int l = 0; l < 3; l++)
                    for (int j = 0; j < nc; j++) {
                        double v = 0;
                        for (int b = 0; b < 6; b++) v += acc[((size_t)(a * 6 + b) * cin + ci) * coutp + c0 + j] * wino_g[b][l];
                        t[a][l][j] = v;
                    }
            for (int k = 0; k < 3; k++)
                for (int l = 0; l < 3; l++)
                    for (int j = 0; j < nc; j++) {
                        double v = 0;
                        for (int a = 0; a < 6; a++) v += wino_g[a][k] * t[a][l][j];
                        dw[((size_t)(c0 + j) * cin + ci) * 9 + k * 3 + l] += (float)v;
                    }
        }
}

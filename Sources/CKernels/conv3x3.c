// Run-time dispatch over the instruction-set variants of conv3x3_body.h, weight packing, padding.
#include "hp_kernels.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(fast)

#if defined(__x86_64__) || defined(__i386__)
#define HP_X86 1
#endif

// A tap count the kernels are not compiled for is a caller's programming error (UNetStack passes 1, 2, 4 or 9):
// stop loudly rather than compute another convolution.
static void hp_bad_taps(const char *kernel, int nt) {
    fprintf(stderr, "error: %s: %d taps (compiled for 1, 2, 4 and 9 in the forward, 1 and 9 in the weight gradient)\n",
            kernel, nt);
    abort();
}

// Plain C: 4-float vectors (SSE2 / NEON registers, or scalar code elsewhere).
typedef float hp_v4 __attribute__((vector_size(16)));
#define HP_SUFFIX generic
#define HP_TARGET
#define HP_VEC hp_v4
#define HP_VW 4
#define HP_MB 4
#define HP_V 2
#define HP_MBW 1
#define HP_TG 9
#include "conv3x3_body.h"

#ifdef HP_X86
typedef float hp_v8 __attribute__((vector_size(32)));
#define HP_FENCE_REGS 1
#define HP_SUFFIX avx2
#define HP_TARGET __attribute__((target("avx2,fma")))
#define HP_VEC hp_v8
#define HP_VW 8
#define HP_MB 4
#define HP_V 3
#define HP_MBW 2
#define HP_TG 5
#include "conv3x3_body.h"

typedef float hp_v16 __attribute__((vector_size(64)));
#define HP_SUFFIX avx512
#define HP_TARGET __attribute__((target("avx512f,avx2,fma")))
#define HP_VEC hp_v16
#define HP_VW 16
#define HP_MB 8
#define HP_V 3
#define HP_MBW 3
#define HP_TG 9
#include "conv3x3_body.h"

// AVX-512 with 4 output channels per block, for layers with at most 4 outputs (the networks' 3-channel last
// layer): half the wasted rows of the 8-channel block.
#define HP_SUFFIX avx512n
#define HP_TARGET __attribute__((target("avx512f,avx2,fma")))
#define HP_VEC hp_v16
#define HP_VW 16
#define HP_MB 4
#define HP_V 3
#define HP_MBW 3
#define HP_FORWARD_ONLY 1
#include "conv3x3_body.h"
#endif

static int detected_level(void) {
#ifdef HP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return HP_LEVEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return HP_LEVEL_AVX2;
#endif
    return HP_LEVEL_GENERIC;
}

int hp_cpu_level_detected(void) { return detected_level(); }

int hp_simd_cap(const char *name) {
    if (name == NULL || name[0] == 0) return -1;
    if (strcmp(name, "avx512") == 0) return HP_LEVEL_AVX512;
    if (strcmp(name, "avx2") == 0) return HP_LEVEL_AVX2;
    if (strcmp(name, "generic") == 0) return HP_LEVEL_GENERIC;
    return -2;
}

int hp_cpu_level(void) {
    // Read once (a benign race: every thread computes the same value).
    static _Atomic int cached = -1;
    int level = atomic_load_explicit(&cached, memory_order_relaxed);
    if (level >= 0) return level;
    level = detected_level();
    const int cap = hp_simd_cap(getenv("HDRPATCH_SIMD"));
    if (cap >= 0 && cap < level) level = cap;
    atomic_store_explicit(&cached, level, memory_order_relaxed);
    return level;
}

int hp_clamp_level(int level) {
    const int best = hp_cpu_level();
    return level < 0 ? 0 : (level > best ? best : level);
}

/// Output channels per register block of the forward kernel for a convolution with `cout` outputs.
static int block_channels(int level, int cout) { return level == HP_LEVEL_AVX512 && cout > 4 ? 8 : 4; }

int hp_conv3x3_block(int level) {
    switch (hp_clamp_level(level)) {
    case HP_LEVEL_AVX512: return 16 * 3;
    case HP_LEVEL_AVX2: return 8 * 3;
    default: return 4 * 2;
    }
}

int hp_conv3x3_lanes(int level) {
    switch (hp_clamp_level(level)) {
    case HP_LEVEL_AVX512: return 16;
    case HP_LEVEL_AVX2: return 8;
    default: return 4;
    }
}

int hp_conv3x3_slack(void) {
    // Forward reads up to one block (48) plus 2 rows + 2 past the last output index; the weight gradient one
    // vector (16) past it. Rounded up generously.
    return 64 + 16;
}

size_t hp_conv3x3_packed_count(int level, int cout, int cin) {
    const int mb = block_channels(hp_clamp_level(level), cout);
    return (size_t)((cout + mb - 1) / mb * mb) * (size_t)cin * 9;
}

void hp_conv3x3_pack(int level, const float *w, int cout, int cin, int adjoint, float *packed) {
    // The packed convolution maps pcin -> pcout channels.
    const int pcout = adjoint ? cin : cout, pcin = adjoint ? cout : cin;
    const int mb = block_channels(hp_clamp_level(level), pcout);
    const int coutp = (pcout + mb - 1) / mb * mb;
    size_t i = 0;
    for (int cb = 0; cb < coutp; cb += mb)
        for (int ci = 0; ci < pcin; ci++)
            for (int k = 0; k < 9; k++)
                for (int m = 0; m < mb; m++) {
                    const int co = cb + m;
                    float v = 0.0f;
                    if (co < pcout) {
                        v = adjoint ? w[((size_t)ci * cin + co) * 9 + (8 - k)] : w[((size_t)co * cin + ci) * 9 + k];
                    }
                    packed[i++] = v;
                }
}

void hp_conv3x3_forward(int level, const float *packed, const float *bias, int cout, int cin, const float *x,
                        size_t plane, int wp, float *y, size_t ystride, int j0, int j1) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512:
        if (cout <= 4) {
            forward_avx512n(packed, bias, cout, cin, x, plane, wp, y, ystride, j0, j1);
        } else {
            forward_avx512(packed, bias, cout, cin, x, plane, wp, y, ystride, j0, j1);
        }
        return;
    case HP_LEVEL_AVX2: forward_avx2(packed, bias, cout, cin, x, plane, wp, y, ystride, j0, j1); return;
#endif
    default: forward_generic(packed, bias, cout, cin, x, plane, wp, y, ystride, j0, j1); return;
    }
}

size_t hp_taps_packed_count(int level, int cout, int cin, int nt) {
    const int mb = block_channels(hp_clamp_level(level), cout);
    return (size_t)((cout + mb - 1) / mb * mb) * (size_t)cin * (size_t)nt;
}

void hp_taps_pack(int level, const float *w, int cout, int cin, int kk, int nt, const int *taps, int transpose,
                  float *packed) {
    const int pcout = transpose ? cin : cout, pcin = transpose ? cout : cin;
    const int mb = block_channels(hp_clamp_level(level), pcout);
    const int coutp = (pcout + mb - 1) / mb * mb;
    size_t i = 0;
    for (int cb = 0; cb < coutp; cb += mb)
        for (int ci = 0; ci < pcin; ci++)
            for (int t = 0; t < nt; t++)
                for (int m = 0; m < mb; m++) {
                    const int co = cb + m;
                    float v = 0.0f;
                    if (co < pcout) {
                        v = transpose ? w[((size_t)ci * cin + co) * kk + taps[t]] : w[((size_t)co * cin + ci) * kk + taps[t]];
                    }
                    packed[i++] = v;
                }
}

void hp_taps_forward(int level, const float *packed, const float *bias, int cout, int cin, int nt, const int *off,
                     const float *x, size_t plane, float *y, size_t ystride, int j0, int j1) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512:
        if (cout <= 4) {
            taps_forward_avx512n(packed, bias, cout, cin, nt, off, x, plane, y, ystride, j0, j1);
        } else {
            taps_forward_avx512(packed, bias, cout, cin, nt, off, x, plane, y, ystride, j0, j1);
        }
        return;
    case HP_LEVEL_AVX2: taps_forward_avx2(packed, bias, cout, cin, nt, off, x, plane, y, ystride, j0, j1); return;
#endif
    default: taps_forward_generic(packed, bias, cout, cin, nt, off, x, plane, y, ystride, j0, j1); return;
    }
}

void hp_taps_weight_grad_images(int level, const float *dy, size_t dystride, size_t dyImage, int cout, const float *x,
                                size_t plane, size_t xImage, int cin, int nt, const int *off, int j1, int images,
                                float *acc) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512:
        taps_weight_grad_images_avx512(dy, dystride, dyImage, cout, x, plane, xImage, cin, nt, off, j1, images, acc);
        return;
    case HP_LEVEL_AVX2:
        taps_weight_grad_images_avx2(dy, dystride, dyImage, cout, x, plane, xImage, cin, nt, off, j1, images, acc);
        return;
#endif
    default:
        taps_weight_grad_images_generic(dy, dystride, dyImage, cout, x, plane, xImage, cin, nt, off, j1, images, acc);
        return;
    }
}

void hp_conv3x3_weight_grad(int level, const float *dy, size_t dystride, int cout, const float *x, size_t plane,
                            int cin, int wp, int j0, int j1, float *acc) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: weight_grad_avx512(dy, dystride, cout, x, plane, cin, wp, j0, j1, acc); return;
    case HP_LEVEL_AVX2: weight_grad_avx2(dy, dystride, cout, x, plane, cin, wp, j0, j1, acc); return;
#endif
    default: weight_grad_generic(dy, dystride, cout, x, plane, cin, wp, j0, j1, acc); return;
    }
}

// Lanes are summed in float, in lane order, then added once: the same order at every thread count.
void hp_reduce_lanes(int level, const float *acc, size_t count, float *dw) {
    const int lanes = hp_conv3x3_lanes(level);
    for (size_t i = 0; i < count; i++) {
        float s = 0.0f;
        for (int l = 0; l < lanes; l++) s += acc[i * lanes + l];
        dw[i] += s;
    }
}

void hp_pad(const float *x, int c, int h, int w, float *xp, size_t plane) {
    const int wp = w + 2;
    for (int ch = 0; ch < c; ch++) {
        const float *src = x + (size_t)ch * h * w;
        float *dst = xp + (size_t)ch * plane;
        memset(dst, 0, sizeof(float) * (size_t)(wp + 1));
        for (int r = 0; r < h; r++) {
            float *row = dst + (size_t)(r + 1) * wp + 1;
            memcpy(row, src + (size_t)r * w, sizeof(float) * (size_t)w);
            row[w] = 0.0f;      // right border
            row[w + 1] = 0.0f;  // left border of the next row
        }
        const size_t used = (size_t)(h + 1) * wp + 1;
        memset(dst + used, 0, sizeof(float) * (plane - used));
    }
}

void hp_unpad(const float *y, size_t ystride, int c, int h, int w, float *out, int accumulate) {
    const int wp = w + 2;
    for (int ch = 0; ch < c; ch++) {
        const float *src = y + (size_t)ch * ystride;
        float *dst = out + (size_t)ch * h * w;
        for (int r = 0; r < h; r++) {
            const float *s = src + (size_t)r * wp;
            float *d = dst + (size_t)r * w;
            if (accumulate) {
                for (int i = 0; i < w; i++) d[i] += s[i];
            } else {
                memcpy(d, s, sizeof(float) * (size_t)w);
            }
        }
    }
}

static void zero_outside_interior(float *p, int h, int w, size_t plane) {
    const int wp = w + 2;
    memset(p, 0, sizeof(float) * (size_t)(wp + 1));
    for (int r = 1; r <= h; r++) {
        p[(size_t)r * wp + w + 1] = 0.0f;  // right border
        p[(size_t)(r + 1) * wp] = 0.0f;    // left border of the next row
    }
    const size_t used = (size_t)(h + 1) * wp + 1;
    memset(p + used, 0, sizeof(float) * (plane - used));
}

void hp_finish_padded_rows(float *yp, int c, int h, int w, size_t plane, int activate, float slope, int r0, int r1) {
    const int wp = w + 2;
    for (int ch = 0; ch < c; ch++) {
        float *p = yp + (size_t)ch * plane;
        if (activate) {
            for (int r = r0 + 1; r <= r1; r++) {
                float *row = p + (size_t)r * wp + 1;
                for (int i = 0; i < w; i++) row[i] = row[i] > 0.0f ? row[i] : slope * row[i];
            }
        }
        // zero_outside_interior, restricted to what belongs to rows [r0, r1).
        if (r0 == 0) memset(p, 0, sizeof(float) * (size_t)(wp + 1));
        for (int r = r0 + 1; r <= r1; r++) {
            p[(size_t)r * wp + w + 1] = 0.0f;  // right border
            p[(size_t)(r + 1) * wp] = 0.0f;    // left border of the next row
        }
        if (r1 == h) {
            const size_t used = (size_t)(h + 1) * wp + 1;
            memset(p + used, 0, sizeof(float) * (plane - used));
        }
    }
}

void hp_finish_padded(float *yp, int c, int h, int w, size_t plane, int activate, float slope) {
    hp_finish_padded_rows(yp, c, h, w, plane, activate, slope, 0, h);
}

void hp_finish_padded_grad(float *gp, const float *act, int c, int h, int w, size_t plane, float slope) {
    const int wp = w + 2;
    for (int ch = 0; ch < c; ch++) {
        float *g = gp + (size_t)ch * plane;
        const float *a = act + (size_t)ch * plane;
        for (int r = 1; r <= h; r++) {
            float *row = g + (size_t)r * wp + 1;
            const float *ar = a + (size_t)r * wp + 1;
            for (int i = 0; i < w; i++) row[i] = ar[i] > 0.0f ? row[i] : slope * row[i];
        }
        zero_outside_interior(g, h, w, plane);
    }
}

#ifdef HP_X86
// 32 values per iteration into four 8-double accumulators: the generic loop's four scalar chains are bound by the
// add latency (about 3% of the default config's step in perf).
static __attribute__((target("avx512f,avx2,fma"))) void plane_sums_avx512(const float *p, int c, size_t plane,
                                                                          double *sums) {
    typedef float f8 __attribute__((vector_size(32)));
    typedef double d8 __attribute__((vector_size(64)));
    for (int ch = 0; ch < c; ch++) {
        const float *q = p + (size_t)ch * plane;
        d8 a[4] = {{0}, {0}, {0}, {0}};
        size_t i = 0;
        for (; i + 32 <= plane; i += 32) {
            for (int k = 0; k < 4; k++) {
                f8 v;
                memcpy(&v, q + i + 8 * k, sizeof v);
                a[k] += __builtin_convertvector(v, d8);
            }
        }
        const d8 t = (a[0] + a[1]) + (a[2] + a[3]);
        double s = 0;
        for (int l = 0; l < 8; l++) s += t[l];
        for (; i < plane; i++) s += q[i];
        sums[ch] += s;
    }
}
#endif

void hp_plane_sums(const float *p, int c, size_t plane, double *sums) {
#ifdef HP_X86
    if (hp_cpu_level() == HP_LEVEL_AVX512) {
        plane_sums_avx512(p, c, plane, sums);
        return;
    }
#endif
    for (int ch = 0; ch < c; ch++) {
        const float *q = p + (size_t)ch * plane;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t i = 0;
        for (; i + 4 <= plane; i += 4) { s0 += q[i]; s1 += q[i + 1]; s2 += q[i + 2]; s3 += q[i + 3]; }
        for (; i < plane; i++) s0 += q[i];
        sums[ch] += (s0 + s1) + (s2 + s3);
    }
}

void hp_upsample2x_padded(const float *src, size_t splane, int c, int hs, int ws, float *dst, size_t dplane) {
    const int wsp = ws + 2, h = 2 * hs, w = 2 * ws, wp = w + 2;
    for (int ch = 0; ch < c; ch++) {
        const float *s = src + (size_t)ch * splane;
        float *d = dst + (size_t)ch * dplane;
        for (int r = 0; r < h; r++) {
            const float *sr = s + (size_t)(r / 2 + 1) * wsp + 1;
            float *dr = d + (size_t)(r + 1) * wp + 1;
            for (int x = 0; x < ws; x++) {
                dr[2 * x] = sr[x];
                dr[2 * x + 1] = sr[x];
            }
        }
        zero_outside_interior(d, h, w, dplane);
    }
}

void hp_upsample2x_adjoint(const float *g, size_t gplane, int c, int hs, int ws, float *out, size_t oplane) {
    const int wsp = ws + 2, wp = 2 * ws + 2;
    for (int ch = 0; ch < c; ch++) {
        const float *gc = g + (size_t)ch * gplane;
        float *o = out + (size_t)ch * oplane;
        for (int r = 0; r < hs; r++) {
            const float *g0 = gc + (size_t)(2 * r + 1) * wp + 1;
            const float *g1 = g0 + wp;
            float *orow = o + (size_t)(r + 1) * wsp + 1;
            for (int x = 0; x < ws; x++) orow[x] = (g0[2 * x] + g0[2 * x + 1]) + (g1[2 * x] + g1[2 * x + 1]);
        }
        zero_outside_interior(o, hs, ws, oplane);
    }
}

void hp_phase_split(const float *xp, size_t plane, int c, int h, int w, float *q, size_t qplane) {
    const int wp = w + 2, ho = h / 2, wo = w / 2, wq = wo + 2;
    for (int ch = 0; ch < c; ch++) {
        const float *x = xp + (size_t)ch * plane;
        for (int ph = 0; ph < 4; ph++) {
            const int pr = ph >> 1, pc = ph & 1;
            float *p = q + ((size_t)ch * 4 + (size_t)ph) * qplane;
            for (int r = 0; r <= ho; r++) {
                const float *xr = x + (size_t)(2 * r + pr) * wp + pc;
                float *pr_ = p + (size_t)r * wq;
                for (int s = 0; s <= wo; s++) pr_[s] = xr[2 * s];
                pr_[wo + 1] = 0.0f;
            }
            const size_t used = (size_t)(ho + 1) * wq;
            memset(p + used, 0, sizeof(float) * (qplane - used));
        }
    }
}

void hp_phase_merge_add(const float *q, size_t qplane, int c, int h, int w, float *dxp, size_t plane) {
    const int wp = w + 2, wq = w / 2 + 2;
    for (int ch = 0; ch < c; ch++) {
        float *d = dxp + (size_t)ch * plane;
        const float *qc = q + (size_t)ch * 4 * qplane;
        for (int r = 1; r <= h; r++) {
            float *dr = d + (size_t)r * wp;
            const float *even = qc + (size_t)((r & 1) * 2) * qplane + (size_t)(r / 2) * wq;
            const float *odd = even + qplane;
            for (int s = 1; s <= w; s++) dr[s] += (s & 1) ? odd[s / 2] : even[s / 2];
        }
    }
}


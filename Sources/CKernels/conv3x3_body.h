// One instruction-set variant of the direct 3x3 kernels, included by conv3x3.c (undefined again at the end) with
//   HP_SUFFIX (name suffix), HP_TARGET (function attribute), HP_VEC (vector type of HP_VW floats),
//   HP_MB x HP_V (forward register block: output channels x vectors), HP_MBW x HP_TG (weight-gradient register
//   block: output channels x taps per pass);
//   HP_FORWARD_ONLY leaves out the weight-gradient kernel.
#include "simd_prelude.h"

// The kernels over a list of `nt` taps: input offsets off[t] from the output index (the 3x3 stride-1 kernels are
// the 9 offsets ky * wp + kx; the U-Net's stride-2 and 1x1 convolutions use others: hp_taps_forward). Inlined with
// a constant nt, so every loop over the taps unrolls.
static inline __attribute__((always_inline)) HP_TARGET void HP_FN(taps_fw_)(const float *packed, const float *bias,
                                                                           int cout, int cin, const int nt,
                                                                           const int *off, const float *x, size_t plane,
                                                                           float *y, size_t ystride, int j0, int j1) {
    const int jb = HP_VW * HP_V;
    const int coutp = (cout + HP_MB - 1) / HP_MB * HP_MB;
    for (int j = j0; j < j1; j += jb) {
        for (int cb = 0; cb < coutp; cb += HP_MB) {
            HP_VEC acc[HP_MB][HP_V];
#pragma clang loop unroll(full)
            for (int m = 0; m < HP_MB; m++) {
                const float b = (bias && cb + m < cout) ? bias[cb + m] : 0.0f;
#pragma clang loop unroll(full)
                for (int v = 0; v < HP_V; v++) acc[m][v] = (HP_VEC){0} + b;
            }
            const float *w = packed + (size_t)cb * cin * nt;
            for (int ci = 0; ci < cin; ci++) {
                const float *xc = x + (size_t)ci * plane + j;
#pragma clang loop unroll(full)
                for (int k = 0; k < nt; k++) {
                    HP_VEC xv[HP_V];
#pragma clang loop unroll(full)
                    for (int v = 0; v < HP_V; v++) xv[v] = HP_FN(load_)(xc + off[k] + v * HP_VW);
#pragma clang loop unroll(full)
                    for (int m = 0; m < HP_MB; m++) {
                        const float wm = w[m];
#pragma clang loop unroll(full)
                        for (int v = 0; v < HP_V; v++) {
                            acc[m][v] += xv[v] * wm;
                            HP_KEEP(acc[m][v]);
                        }
                        HP_LOADS_AFTER();
                    }
                    w += HP_MB;
                }
            }
            const int valid = cout - cb < HP_MB ? cout - cb : HP_MB;
#pragma clang loop unroll(full)
            for (int m = 0; m < HP_MB; m++) {
                if (m < valid) {
#pragma clang loop unroll(full)
                    for (int v = 0; v < HP_V; v++) HP_FN(store_)(y + (size_t)(cb + m) * ystride + j + v * HP_VW, acc[m][v]);
                }
            }
        }
    }
}

static HP_TARGET void HP_FN(forward_)(const float *packed, const float *bias, int cout, int cin, const float *x,
                                      size_t plane, int wp, float *y, size_t ystride, int j0, int j1) {
    int off[9];
    for (int k = 0; k < 9; k++) off[k] = (k / 3) * wp + k % 3;
    HP_FN(taps_fw_)(packed, bias, cout, cin, 9, off, x, plane, y, ystride, j0, j1);
}

static HP_TARGET void HP_FN(taps_forward_)(const float *packed, const float *bias, int cout, int cin, int nt,
                                           const int *off, const float *x, size_t plane, float *y, size_t ystride,
                                           int j0, int j1) {
    switch (nt) {
    case 1: HP_FN(taps_fw_)(packed, bias, cout, cin, 1, off, x, plane, y, ystride, j0, j1); return;
    case 2: HP_FN(taps_fw_)(packed, bias, cout, cin, 2, off, x, plane, y, ystride, j0, j1); return;
    case 4: HP_FN(taps_fw_)(packed, bias, cout, cin, 4, off, x, plane, y, ystride, j0, j1); return;
    case 9: HP_FN(taps_fw_)(packed, bias, cout, cin, 9, off, x, plane, y, ystride, j0, j1); return;
    default: hp_bad_taps("hp_taps_forward", nt);
    }
}

#ifndef HP_FORWARD_ONLY
// Weight gradients: per-lane sums acc[((co * cin + ci) * nt + t) * HP_VW + l] += dy[co][j] * x[ci][j + off[t]] over
// `images` images (dy and x `dyImage` and `xImage` floats apart), outputs [j0, j1) of each. A large image goes in
// chunks of 1024 outputs (cout + cin rows of a chunk stay in L2); small images a group at a time (up to 2048
// outputs per group) with the accumulators loaded once per group, so a layer of many channels on small images
// reads and writes its accumulators once per group instead of once per image. Each lane adds its terms in image
// and output order whatever the chunking.
static inline __attribute__((always_inline)) HP_TARGET void HP_FN(taps_wgi_)(const float *dy, size_t dystride,
                                                                            size_t dyImage, int cout,
                                                                            const float *x, size_t plane,
                                                                            size_t xImage, int cin, const int nt,
                                                                            const int *off, int j0, int j1,
                                                                            int images, float *acc) {
    const int span = j1 - j0;
    const int group = span >= 2048 ? 1 : 2048 / span;
    const int chunk = group == 1 ? 1024 : span;
    const size_t rowStride = (size_t)cin * nt * HP_VW;  // acc floats per output channel
    for (int b0 = 0; b0 < images; b0 += group) {
        const int b1 = b0 + group < images ? b0 + group : images;
        for (int jc = j0; jc < j1; jc += chunk) {
            const int je = jc + chunk < j1 ? jc + chunk : j1;
            for (int co = 0; co < cout; co += HP_MBW) {
                const int valid = cout - co < HP_MBW ? cout - co : HP_MBW;
                const float *d[HP_MBW];
                for (int m = 0; m < HP_MBW; m++) d[m] = dy + (size_t)(co + (m < valid ? m : valid - 1)) * dystride;
                for (int ci = 0; ci < cin; ci++) {
                    // Taps in groups of HP_TG (a constant: the group loop unrolls), each group's accumulators in
                    // registers for one pass over the outputs: with fewer registers than HP_MBW x nt accumulators
                    // (AVX2: 2 channels x 9 taps) the x vector loaded for a tap serves HP_MBW channels. Every
                    // accumulator lane still adds its terms in image and output order.
#pragma clang loop unroll(full)
                    for (int k0 = 0; k0 < nt; k0 += HP_TG) {
                        const int k1 = k0 + HP_TG < nt ? k0 + HP_TG : nt;
                        // Rows past the last channel re-read the last valid row and are never stored (keeps a[][]
                        // in registers: every index below is a constant after unrolling).
                        float *ap[HP_MBW];
#pragma clang loop unroll(full)
                        for (int m = 0; m < HP_MBW; m++)
                            ap[m] = acc + (size_t)(co + (m < valid ? m : valid - 1)) * rowStride + (size_t)ci * nt * HP_VW;
                        HP_VEC a[HP_MBW][HP_TG];
#pragma clang loop unroll(full)
                        for (int m = 0; m < HP_MBW; m++) {
#pragma clang loop unroll(full)
                            for (int k = k0; k < k1; k++) a[m][k - k0] = HP_FN(load_)(ap[m] + k * HP_VW);
                        }
                        for (int b = b0; b < b1; b++) {
                            const float *xc = x + (size_t)b * xImage + (size_t)ci * plane;
                            const size_t db = (size_t)b * dyImage;
                            for (int j = jc; j < je; j += HP_VW) {
                                HP_VEC dv[HP_MBW];
#pragma clang loop unroll(full)
                                for (int m = 0; m < HP_MBW; m++) dv[m] = HP_FN(load_)(d[m] + db + j);
#pragma clang loop unroll(full)
                                for (int k = k0; k < k1; k++) {
                                    const HP_VEC xv = HP_FN(load_)(xc + j + off[k]);
#pragma clang loop unroll(full)
                                    for (int m = 0; m < HP_MBW; m++) a[m][k - k0] += dv[m] * xv;
                                }
                            }
                        }
#pragma clang loop unroll(full)
                        for (int m = HP_MBW - 1; m >= 0; m--) {
                            if (m < valid) {
#pragma clang loop unroll(full)
                                for (int k = k0; k < k1; k++) HP_FN(store_)(ap[m] + k * HP_VW, a[m][k - k0]);
                            }
                        }
                    }
                }
            }
        }
    }
}

static HP_TARGET void HP_FN(weight_grad_)(const float *dy, size_t dystride, int cout, const float *x, size_t plane,
                                          int cin, int wp, int j0, int j1, float *acc) {
    int off[9];
    for (int k = 0; k < 9; k++) off[k] = (k / 3) * wp + k % 3;
    HP_FN(taps_wgi_)(dy, dystride, 0, cout, x, plane, 0, cin, 9, off, j0, j1, 1, acc);
}

static HP_TARGET void HP_FN(taps_weight_grad_images_)(const float *dy, size_t dystride, size_t dyImage, int cout,
                                                      const float *x, size_t plane, size_t xImage, int cin, int nt,
                                                      const int *off, int j1, int images, float *acc) {
    switch (nt) {
    case 1: HP_FN(taps_wgi_)(dy, dystride, dyImage, cout, x, plane, xImage, cin, 1, off, 0, j1, images, acc); return;
    case 9: HP_FN(taps_wgi_)(dy, dystride, dyImage, cout, x, plane, xImage, cin, 9, off, 0, j1, images, acc); return;
    default: hp_bad_taps("hp_taps_weight_grad_images", nt);
    }
}

#endif

#undef HP_FORWARD_ONLY
#undef HP_FENCE_REGS
#undef HP_KEEP
#undef HP_LOADS_AFTER
#undef HP_SUFFIX
#undef HP_TARGET
#undef HP_VEC
#undef HP_VW
#undef HP_MB
#undef HP_V
#undef HP_MBW
#undef HP_TG
#undef HP_FN
#undef HP_CAT
#undef HP_CAT2

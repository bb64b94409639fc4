// One instruction-set variant of the direct 3x3 kernels, included by conv3x3.c (undefined again at the end) with
//   HP_SUFFIX (name suffix), HP_TARGET (function attribute), HP_VEC (vector type of HP_VW floats),
//   HP_MB x HP_V (forward register block: output channels x vectors), HP_MBW (weight-gradient channels);
//   HP_FORWARD_ONLY leaves out the weight-gradient kernel.
#include "simd_prelude.h"

static HP_TARGET void HP_FN(forward_)(const float *packed, const float *bias, int cout, int cin, const float *x,
                                      size_t plane, int wp, float *y, size_t ystride, int j0, int j1) {
    const int jb = HP_VW * HP_V;
    int off[9];
    for (int k = 0; k < 9; k++) off[k] = (k / 3) * wp + k % 3;
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
            const float *w = packed + (size_t)cb * cin * 9;
            for (int ci = 0; ci < cin; ci++) {
                const float *xc = x + (size_t)ci * plane + j;
#pragma clang loop unroll(full)
                for (int k = 0; k < 9; k++) {
                    HP_VEC xv[HP_V];
#pragma clang loop unroll(full)
                    for (int v = 0; v < HP_V; v++) xv[v] = HP_FN(load_)(xc + off[k] + v * HP_VW);
#pragma clang loop unroll(full)
                    for (int m = 0; m < HP_MB; m++) {
                        const float wm = w[m];
#pragma clang loop unroll(full)
                        for (int v = 0; v < HP_V; v++) acc[m][v] += xv[v] * wm;
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

#ifndef HP_FORWARD_ONLY
static HP_TARGET void HP_FN(weight_grad_)(const float *dy, size_t dystride, int cout, const float *x, size_t plane,
                                          int cin, int wp, int j0, int j1, float *acc) {
    enum { chunk = 1024 };  // output indices per pass: keeps cout + cin rows of it in L2
    int off[9];
    for (int k = 0; k < 9; k++) off[k] = (k / 3) * wp + k % 3;
    const size_t rowStride = (size_t)cin * 9 * HP_VW;  // acc floats per output channel
    for (int jc = j0; jc < j1; jc += chunk) {
        const int je = jc + chunk < j1 ? jc + chunk : j1;
        for (int co = 0; co < cout; co += HP_MBW) {
            const int valid = cout - co < HP_MBW ? cout - co : HP_MBW;
            const float *d[HP_MBW];
            for (int m = 0; m < HP_MBW; m++) d[m] = dy + (size_t)(co + (m < valid ? m : valid - 1)) * dystride;
            for (int ci = 0; ci < cin; ci++) {
                // Rows past the last channel re-read the last valid row and are never stored (keeps a[][] in
                // registers: every index below is a constant after unrolling).
                float *ap[HP_MBW];
#pragma clang loop unroll(full)
                for (int m = 0; m < HP_MBW; m++)
                    ap[m] = acc + (size_t)(co + (m < valid ? m : valid - 1)) * rowStride + (size_t)ci * 9 * HP_VW;
                HP_VEC a[HP_MBW][9];
#pragma clang loop unroll(full)
                for (int m = 0; m < HP_MBW; m++) {
#pragma clang loop unroll(full)
                    for (int k = 0; k < 9; k++) a[m][k] = HP_FN(load_)(ap[m] + k * HP_VW);
                }
                const float *xc = x + (size_t)ci * plane;
                for (int j = jc; j < je; j += HP_VW) {
                    HP_VEC dv[HP_MBW];
#pragma clang loop unroll(full)
                    for (int m = 0; m < HP_MBW; m++) dv[m] = HP_FN(load_)(d[m] + j);
#pragma clang loop unroll(full)
                    for (int k = 0; k < 9; k++) {
                        const HP_VEC xv = HP_FN(load_)(xc + j + off[k]);
#pragma clang loop unroll(full)
                        for (int m = 0; m < HP_MBW; m++) a[m][k] += dv[m] * xv;
                    }
                }
#pragma clang loop unroll(full)
                for (int m = HP_MBW - 1; m >= 0; m--) {
                    if (m < valid) {
#pragma clang loop unroll(full)
                        for (int k = 0; k < 9; k++) HP_FN(store_)(ap[m] + k * HP_VW, a[m][k]);
                    }
                }
            }
        }
    }
}

#endif

#undef HP_FORWARD_ONLY
#undef HP_SUFFIX
#undef HP_TARGET
#undef HP_VEC
#undef HP_VW
#undef HP_MB
#undef HP_V
#undef HP_MBW
#undef HP_FN
#undef HP_CAT
#undef HP_CAT2

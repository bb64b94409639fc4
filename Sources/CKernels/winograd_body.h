// One instruction-set variant of the Winograd F(4x4, 3x3) forward kernel, included by winograd.c (undefined
// again at the end) with HP_SUFFIX, HP_TARGET, HP_VEC (vector of HP_VW floats), HP_MB x HP_NB (register block:
// output channels x tile vectors) and the shuffles HP_EVEN, HP_ODD (even / odd elements of two vectors),
// HP_SHIFT (one lane down, the last lane from element e of a second vector), HP_ILO, HP_IHI (interleave the
// low / high halves of two vectors).
//
// Tiles: output tile (ty, tx) is the 4x4 block of output pixels from (4ty, 4tx); it reads the 6x6 block of the
// padded input from padded row 4ty, column 4tx. A tile vector is HP_VW tiles of one tile row, tx = q * HP_VW +
// lane, so that a vector lane is a tile and every transform is element-wise across lanes. A row of a tile
// vector's input (4 * HP_VW + 2 contiguous floats) is split into its six phases d_k[lane] = row[4 lane + k].
#include "simd_prelude.h"

typedef int HP_FN(ivec_) __attribute__((vector_size(sizeof(HP_VEC))));

// LeakyReLU(slope) of v (act HP_ACT_LEAKY), or v times its derivative at `mask` (HP_ACT_LEAKY_GRAD): the same
// select as the scalar v > 0 ? v : slope * v, bit for bit.
static inline HP_TARGET HP_VEC HP_FN(activate_)(HP_VEC v, HP_VEC mask, float slope) {
    const HP_FN(ivec_) m = mask > (HP_VEC){0};
    return (HP_VEC)((m & (HP_FN(ivec_))v) | (~m & (HP_FN(ivec_))(v * slope)));
}

// X = B^T d for the interpolation points 0, 1, -1, 1/2, -2 and infinity (more accurate in float than the usual
// 0, +-1, +-2: every coefficient of B^T and A^T is a small power of two or a sum of two).
static inline HP_TARGET void HP_FN(wino_bt_)(HP_VEC d0, HP_VEC d1, HP_VEC d2, HP_VEC d3, HP_VEC d4, HP_VEC d5,
                                              HP_VEC X[6]) {
    const HP_VEC s13 = d3 - d1, s42 = d4 - d2;
    X[0] = (d0 + d4) - 2.0f * d2 + 1.5f * s13;
    X[1] = (d4 - d1) + 0.5f * d2 + 2.5f * d3;
    X[2] = (d4 + d1) - 2.5f * d2 + 0.5f * d3;
    X[3] = 2.0f * s13 + s42;
    X[4] = s42 - 0.5f * s13;
    X[5] = (d1 + d5) - 2.0f * d3 + 1.5f * s42;
}

// o = A^T m.
static inline HP_TARGET void HP_FN(wino_at_)(const HP_VEC m[6], HP_VEC o[4]) {
    const HP_VEC a = m[1] + m[2], s = m[1] - m[2];
    o[0] = (m[0] + a) + (m[3] + m[4]);
    o[1] = s + 0.5f * m[3] - 2.0f * m[4];
    o[2] = a + 0.25f * m[3] + 4.0f * m[4];
    o[3] = (s + m[5]) + 0.125f * m[3] - 8.0f * m[4];
}

// M[co][xi][v] = sum over ci of U[xi][co][ci] V[ci][xi][v] for one block of nbv tile vectors: 36 small matrix
// products (nbv is a constant after inlining, so acc[][] stays in registers).
static inline __attribute__((always_inline)) HP_TARGET void HP_FN(wino_gemm_)(const float *u, int coutp, int cin,
                                                                             const float *V, float *M, const int nbv) {
    enum { bw = HP_NB * HP_VW };
    for (int xi = 0; xi < 36; xi++) {
        for (int cb = 0; cb < coutp; cb += HP_MB) {
            const float *ux = u + ((size_t)xi * coutp + cb) * cin;
            const float *vx = V + (size_t)xi * bw;
            HP_VEC acc[HP_MB][HP_NB];
#pragma clang loop unroll(full)
            for (int m = 0; m < HP_MB; m++) {
#pragma clang loop unroll(full)
                for (int v = 0; v < nbv; v++) acc[m][v] = (HP_VEC){0};
            }
            for (int ci = 0; ci < cin; ci++) {
                HP_VEC vv[HP_NB];
#pragma clang loop unroll(full)
                for (int v = 0; v < nbv; v++) vv[v] = HP_FN(load_)(vx + v * HP_VW);
#pragma clang loop unroll(full)
                for (int m = 0; m < HP_MB; m++) {
                    const float um = ux[m];
#pragma clang loop unroll(full)
                    for (int v = 0; v < nbv; v++) acc[m][v] += vv[v] * um;
                }
                ux += HP_MB;
                vx += 36 * bw;
            }
            float *mx = M + ((size_t)cb * 36 + xi) * bw;
#pragma clang loop unroll(full)
            for (int m = 0; m < HP_MB; m++) {
#pragma clang loop unroll(full)
                for (int v = 0; v < nbv; v++) HP_FN(store_)(mx + (size_t)m * 36 * bw + v * HP_VW, acc[m][v]);
            }
        }
    }
}

// Scratch: V (cin x 36 x block), M (coutp x 36 x block), then the edge buffers.
static HP_TARGET void HP_FN(wino_forward_)(const float *u, const float *bias, int cout, int cin, const float *x,
                                           size_t plane, int h, int w, float *y, size_t ystride, float *scratch,
                                           int act, float slope, const float *mask) {
    const int wp = w + 2;
    const int th = (h + 3) / 4, tw = (w + 3) / 4;
    const int nvr = (tw + HP_VW - 1) / HP_VW;  // tile vectors per tile row
    const int tvs = th * nvr;
    const int coutp = (cout + HP_MB - 1) / HP_MB * HP_MB;
    enum { bw = HP_NB * HP_VW, es = 5 * HP_VW };  // floats per (channel, xi) in V and M; edge row stride
    float *const V = scratch, *const M = V + (size_t)cin * 36 * bw, *const edge = M + (size_t)coutp * 36 * bw;
    float *const oedge = edge + 6 * es;
    for (int b0 = 0; b0 < tvs; b0 += HP_NB) {
        const int nb = tvs - b0 < HP_NB ? tvs - b0 : HP_NB;
        // Input transform, columns first (on whole rows: no shuffles), then rows (on the six phases).
        for (int v = 0; v < nb; v++) {
            const int tv = b0 + v, r0 = 4 * (tv / nvr), c0 = 4 * HP_VW * (tv % nvr);
            // Reads 5 vectors per row (lanes past 4 * HP_VW + 1 unused): within the slack of a full tile vector.
            const int full = r0 + 4 <= h && c0 + 4 * HP_VW <= w;
            for (int ci = 0; ci < cin; ci++) {
                const float *src = x + (size_t)ci * plane + (size_t)r0 * wp + c0;
                size_t rs = (size_t)wp;
                if (!full) {
                    // Past the padded image: zeros (the grid's own rows would be the next row or the slack).
                    for (int r = 0; r < 6; r++) {
                        const int rr = r0 + r;
                        for (int c = 0; c < es; c++) {
                            const int cc = c0 + c;
                            edge[r * es + c] = (rr <= h + 1 && cc <= w + 1) ? src[(size_t)r * wp + c] : 0.0f;
                        }
                    }
                    src = edge;
                    rs = es;
                }
                HP_VEC Y[6][5];
#pragma clang loop unroll(full)
                for (int j = 0; j < 5; j++) {
                    HP_VEC col[6];
                    HP_FN(wino_bt_)(HP_FN(load_)(src + j * HP_VW), HP_FN(load_)(src + rs + j * HP_VW),
                                    HP_FN(load_)(src + 2 * rs + j * HP_VW), HP_FN(load_)(src + 3 * rs + j * HP_VW),
                                    HP_FN(load_)(src + 4 * rs + j * HP_VW), HP_FN(load_)(src + 5 * rs + j * HP_VW), col);
#pragma clang loop unroll(full)
                    for (int l = 0; l < 6; l++) Y[l][j] = col[l];
                }
                float *dst = V + (size_t)ci * 36 * bw + v * HP_VW;
#pragma clang loop unroll(full)
                for (int l = 0; l < 6; l++) {
                    // Phase k of the row: d_k[lane] = row[4 lane + k].
                    const HP_VEC t0 = HP_EVEN(Y[l][0], Y[l][1]), t1 = HP_ODD(Y[l][0], Y[l][1]);
                    const HP_VEC t2 = HP_EVEN(Y[l][2], Y[l][3]), t3 = HP_ODD(Y[l][2], Y[l][3]);
                    const HP_VEC d0 = HP_EVEN(t0, t2), d2 = HP_ODD(t0, t2), d1 = HP_EVEN(t1, t3), d3 = HP_ODD(t1, t3);
                    HP_VEC X[6];
                    HP_FN(wino_bt_)(d0, d1, d2, d3, HP_SHIFT(d0, Y[l][4], 0), HP_SHIFT(d1, Y[l][4], 1), X);
#pragma clang loop unroll(full)
                    for (int k = 0; k < 6; k++) HP_FN(store_)(dst + (l * 6 + k) * bw, X[k]);
                }
            }
        }
        if (nb == HP_NB) {
            HP_FN(wino_gemm_)(u, coutp, cin, V, M, HP_NB);
        } else if (nb == 2) {
            HP_FN(wino_gemm_)(u, coutp, cin, V, M, 2);
        } else {
            HP_FN(wino_gemm_)(u, coutp, cin, V, M, 1);
        }
        // Output transform: A^T M A, plus bias, written to the interior of y.
        for (int co = 0; co < cout; co++) {
            const float b = bias ? bias[co] : 0.0f;
            for (int v = 0; v < nb; v++) {
                const int tv = b0 + v, r0 = 4 * (tv / nvr), c0 = 4 * HP_VW * (tv % nvr);
                const float *src = M + (size_t)co * 36 * bw + v * HP_VW;
                HP_VEC Z[6][4];
#pragma clang loop unroll(full)
                for (int l = 0; l < 6; l++) {
                    HP_VEC m6[6];
#pragma clang loop unroll(full)
                    for (int k = 0; k < 6; k++) m6[k] = HP_FN(load_)(src + (l * 6 + k) * bw);
                    HP_FN(wino_at_)(m6, Z[l]);
                }
                HP_VEC O[4][4];
#pragma clang loop unroll(full)
                for (int j = 0; j < 4; j++) {
                    HP_VEC m6[6] = {Z[0][j], Z[1][j], Z[2][j], Z[3][j], Z[4][j], Z[5][j]};
                    HP_VEC o[4];
                    HP_FN(wino_at_)(m6, o);
#pragma clang loop unroll(full)
                    for (int i = 0; i < 4; i++) O[i][j] = o[i] + b;
                }
                const int full = r0 + 4 <= h && c0 + 4 * HP_VW <= w;
                const size_t at = (size_t)co * ystride + (size_t)r0 * wp + c0;
                float *out = y + at;
#pragma clang loop unroll(full)
                for (int i = 0; i < 4; i++) {
                    // Back from phases to pixels: pixel 4 lane + j of the row is O[i][j][lane].
                    const HP_VEC alo = HP_ILO(O[i][0], O[i][2]), ahi = HP_IHI(O[i][0], O[i][2]);
                    const HP_VEC blo = HP_ILO(O[i][1], O[i][3]), bhi = HP_IHI(O[i][1], O[i][3]);
                    HP_VEC px[4] = {HP_ILO(alo, blo), HP_IHI(alo, blo), HP_ILO(ahi, bhi), HP_IHI(ahi, bhi)};
                    if (full) {
                        float *row = out + (size_t)i * wp;
#pragma clang loop unroll(full)
                        for (int q = 0; q < 4; q++) {
                            if (act == HP_ACT_LEAKY) px[q] = HP_FN(activate_)(px[q], px[q], slope);
                            if (act == HP_ACT_LEAKY_GRAD)
                                px[q] = HP_FN(activate_)(px[q], HP_FN(load_)(mask + at + (size_t)i * wp + q * HP_VW), slope);
                            HP_FN(store_)(row + q * HP_VW, px[q]);
                        }
                    } else {
#pragma clang loop unroll(full)
                        for (int q = 0; q < 4; q++) HP_FN(store_)(oedge + i * 4 * HP_VW + q * HP_VW, px[q]);
                    }
                }
                if (!full) {
                    const int rows = h - r0 < 4 ? h - r0 : 4, cols = w - c0 < 4 * HP_VW ? w - c0 : 4 * HP_VW;
                    for (int i = 0; i < rows; i++) {
                        for (int c = 0; c < cols; c++) {
                            const float v = oedge[i * 4 * HP_VW + c];
                            const float m = act == HP_ACT_LEAKY ? v : (act == HP_ACT_LEAKY_GRAD ? mask[at + (size_t)i * wp + c] : 1.0f);
                            out[(size_t)i * wp + c] = (act == HP_ACT_NONE || m > 0.0f) ? v : slope * v;
                        }
                    }
                }
            }
        }
    }
}

#undef HP_SUFFIX
#undef HP_TARGET
#undef HP_VEC
#undef HP_VW
#undef HP_MB
#undef HP_NB
#undef HP_EVEN
#undef HP_ODD
#undef HP_SHIFT
#undef HP_ILO
#undef HP_IHI
#undef HP_FN
#undef HP_CAT
#undef HP_CAT2

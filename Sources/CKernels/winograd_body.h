// One instruction-set variant of the Winograd F(4x4, 3x3) kernels (forward, which d input also runs with the
// adjoint weights, and the weight gradient), included by winograd.c (undefined
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

// The input transform of one tile vector (tiles from padded row r0, column c0; HP_VW tiles of one tile row):
// dst[ci * cs + xi * xs + lane] = (B^T d B)[xi] of tile `lane` for every ci < cin. Columns first (on whole rows:
// no shuffles), then rows (on the six phases). `edge` is scratch of 6 * 5 * HP_VW floats for tiles that reach past
// the padded image (read as zeros there).
static inline HP_TARGET void HP_FN(wino_input_)(const float *x, size_t plane, int h, int w, int r0, int c0, int cin,
                                                float *edge, float *dst, size_t xs, size_t cs) {
    enum { es = 5 * HP_VW };
    const int wp = w + 2;
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
#ifdef HP_PREFETCH_INPUT
        // A large image's layer input streams from memory: 6 rows per input channel, each read one tile vector
        // (4 * HP_VW floats) further along by the next call, more streams than the hardware prefetcher follows
        // (96 for a 16-channel layer). Ask for the lines two tile vectors ahead.
        if (full) {
#pragma clang loop unroll(full)
            for (int r = 0; r < 6; r++) {
#pragma clang loop unroll(full)
                for (int q = 0; q < HP_VW / 4; q++) __builtin_prefetch(src + (size_t)r * rs + 8 * HP_VW + 16 * q);
            }
        }
#endif
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
        float *d = dst + (size_t)ci * cs;
#pragma clang loop unroll(full)
        for (int l = 0; l < 6; l++) {
            // Phase k of the row: d_k[lane] = row[4 lane + k].
            const HP_VEC t0 = HP_EVEN(Y[l][0], Y[l][1]), t1 = HP_ODD(Y[l][0], Y[l][1]);
            const HP_VEC t2 = HP_EVEN(Y[l][2], Y[l][3]), t3 = HP_ODD(Y[l][2], Y[l][3]);
            const HP_VEC d0 = HP_EVEN(t0, t2), d2 = HP_ODD(t0, t2), d1 = HP_EVEN(t1, t3), d3 = HP_ODD(t1, t3);
            HP_VEC X[6];
            HP_FN(wino_bt_)(d0, d1, d2, d3, HP_SHIFT(d0, Y[l][4], 0), HP_SHIFT(d1, Y[l][4], 1), X);
#pragma clang loop unroll(full)
            for (int k = 0; k < 6; k++) HP_FN(store_)(d + (size_t)(l * 6 + k) * xs, X[k]);
        }
    }
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
                    for (int v = 0; v < nbv; v++) {
                        acc[m][v] += vv[v] * um;
                        HP_KEEP(acc[m][v]);
                    }
                    HP_LOADS_AFTER();
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
        for (int v = 0; v < nb; v++) {
            const int tv = b0 + v;
            HP_FN(wino_input_)(x, plane, h, w, 4 * (tv / nvr), 4 * HP_VW * (tv % nvr), cin, edge, V + v * HP_VW, bw,
                               (size_t)36 * bw);
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

#ifdef HP_WMB
// e = A d: the adjoint of the output transform (a 4-vector to the six transformed points).
static inline HP_TARGET void HP_FN(wino_a_)(HP_VEC d0, HP_VEC d1, HP_VEC d2, HP_VEC d3, HP_VEC e[6]) {
    const HP_VEC even = d0 + d2, odd = d1 + d3;
    e[0] = d0;
    e[1] = even + odd;
    e[2] = even - odd;
    e[3] = (d0 + 0.25f * d2) + (0.5f * d1 + 0.125f * d3);
    e[4] = (d0 + 4.0f * d2) - (2.0f * d1 + 8.0f * d3);
    e[5] = d3;
}

// Transposes HP_VW vectors (rows) in place: r[i][j] <- r[j][i]. log2(HP_VW) perfect-shuffle stages.
static inline HP_TARGET void HP_FN(transpose_)(HP_VEC r[HP_VW]) {
    for (int stage = 1; stage < HP_VW; stage *= 2) {
        HP_VEC t[HP_VW];
#pragma clang loop unroll(full)
        for (int i = 0; i < HP_VW / 2; i++) {
            t[2 * i] = HP_ILO(r[i], r[i + HP_VW / 2]);
            t[2 * i + 1] = HP_IHI(r[i], r[i + HP_VW / 2]);
        }
#pragma clang loop unroll(full)
        for (int i = 0; i < HP_VW; i++) r[i] = t[i];
    }
}

// a[m][v] += sum over the chunk's tiles t of vx[row m][t] dt[t][v]: the inner loop of wino_grad_gemm_. With `full`
// (a constant after inlining) row m is m, so every V address is the base plus a compile-time offset.
static inline __attribute__((always_inline)) HP_TARGET void HP_FN(wino_grad_tiles_)(
    HP_VEC a[HP_WMB][HP_WNV], const float *vx, const float *dt, int tiles, int coutp, const int row[HP_WMB],
    const int nv, const int full) {
    for (int t = 0; t < tiles; t++) {
        HP_VEC dv[HP_WNV];
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) dv[v] = HP_FN(load_)(dt + v * HP_VW);
#pragma clang loop unroll(full)
        for (int m = 0; m < HP_WMB; m++) {
            const float s = vx[(size_t)(full ? m : row[m]) * 36 * WINO_GRAD_TILES + t];
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) a[m][v] += dv[v] * s;
        }
        dt += coutp;
    }
}

// acc[xi][ci][co..co + nv * HP_VW) += sum over the chunk's tiles t of V[ci][xi][t] D[xi][t][co..]: HP_WMB input
// channels (broadcast, rows a compile-time stride apart) x nv output vectors per register block (nv a constant
// after inlining).
static inline __attribute__((always_inline)) HP_TARGET void HP_FN(wino_grad_gemm_)(const float *V, const float *D,
                                                                                  size_t dxs, int cin, int coutp,
                                                                                  int tiles, float *acc, const int nv) {
    for (int xi = 0; xi < 36; xi++) {
        const float *dx = D + (size_t)xi * dxs;
        for (int cb = 0; cb < cin; cb += HP_WMB) {
            const int valid = cin - cb < HP_WMB ? cin - cb : HP_WMB;
            const float *vx = V + ((size_t)cb * 36 + xi) * WINO_GRAD_TILES;
            for (int co = 0; co + nv * HP_VW <= coutp; co += nv * HP_VW) {
                // Rows past the last channel re-read the last valid one and are not stored (constant indices).
                int row[HP_WMB];
                float *ap[HP_WMB];
#pragma clang loop unroll(full)
                for (int m = 0; m < HP_WMB; m++) {
                    row[m] = m < valid ? m : valid - 1;
                    ap[m] = acc + ((size_t)xi * cin + cb + row[m]) * coutp + co;
                }
                HP_VEC a[HP_WMB][HP_WNV];
#pragma clang loop unroll(full)
                for (int m = 0; m < HP_WMB; m++) {
#pragma clang loop unroll(full)
                    for (int v = 0; v < nv; v++) a[m][v] = HP_FN(load_)(ap[m] + v * HP_VW);
                }
                if (valid == HP_WMB) {
                    HP_FN(wino_grad_tiles_)(a, vx, dx + co, tiles, coutp, row, nv, 1);
                } else {
                    HP_FN(wino_grad_tiles_)(a, vx, dx + co, tiles, coutp, row, nv, 0);
                }
#pragma clang loop unroll(full)
                for (int m = HP_WMB - 1; m >= 0; m--) {
                    if (m < valid) {
#pragma clang loop unroll(full)
                        for (int v = 0; v < nv; v++) HP_FN(store_)(ap[m] + v * HP_VW, a[m][v]);
                    }
                }
            }
        }
    }
}

// The weight gradient in the transformed domain: acc[xi][ci][co] += sum over tiles of (A dY A^T)[co][xi] *
// (B^T x B)[ci][xi], dY the 4x4 output-gradient tiles, x the 6x6 input tiles. Processed in chunks of at most
// WINO_GRAD_TILES tiles (whole tile rows, or segments of one row in a wide image): dY's rows go through a
// channels-last copy H (so that its transform runs with output channels in lanes), x's tiles through the forward
// input transform (tiles in lanes), then one product over the chunk's tiles.
static HP_TARGET void HP_FN(wino_grad_)(const float *dy, size_t dystride, int cout, const float *x, size_t plane,
                                        int cin, int h, int w, float *scratch, float *acc) {
    enum { segVectors = WINO_GRAD_TILES / HP_VW };  // tile vectors per chunk
    const int wp = w + 2;
    const int th = (h + 3) / 4, tw = (w + 3) / 4;
    const int nvr = (tw + HP_VW - 1) / HP_VW;
    const int coutp = (cout + HP_VW - 1) / HP_VW * HP_VW;
    // A chunk: `rows` tile rows of `seg` tile vectors from vector qx0 of the row.
    const int seg = nvr < segVectors ? nvr : segVectors, rows = segVectors / seg;
    const int segTiles = seg * HP_VW, wt = 4 * segTiles;  // tiles per chunk row (junk lanes included); H's width
    const size_t dxs = (size_t)WINO_GRAD_TILES * coutp + 16;  // D's xi stride: not a multiple of 4 KiB
    float *const V = scratch, *const D = V + (size_t)cin * 36 * WINO_GRAD_TILES, *const H = D + 36 * dxs;
    float *const edge = H + (size_t)16 * WINO_GRAD_TILES * coutp;
    for (int ty0 = 0; ty0 < th; ty0 += rows) {
        const int nrows = th - ty0 < rows ? th - ty0 : rows;
        for (int qx0 = 0; qx0 < nvr; qx0 += seg) {
            const int nq = nvr - qx0 < seg ? nvr - qx0 : seg;
            const int rowTiles = nq * HP_VW, tiles = nrows * rowTiles, x0px = 4 * HP_VW * qx0;
            // H[y][x][co] = dY[co][4 ty0 + y][x0px + x], zero outside the image.
            for (int y = 0; y < 4 * nrows; y++) {
                const int yy = 4 * ty0 + y;
                float *hr = H + (size_t)y * wt * coutp;
                if (yy >= h) {
                    memset(hr, 0, sizeof(float) * (size_t)(4 * rowTiles) * coutp);
                    continue;
                }
                const float *src = dy + (size_t)(yy + 1) * wp + 1 + x0px;
                const int wr = w - x0px;  // image columns from this segment's start
                for (int xb = 0; xb < 4 * rowTiles; xb += HP_VW) {
                    for (int c0 = 0; c0 < coutp; c0 += HP_VW) {
                        if (xb + HP_VW <= wr && c0 + HP_VW <= cout) {
                            HP_VEC r[HP_VW];
#pragma clang loop unroll(full)
                            for (int i = 0; i < HP_VW; i++) r[i] = HP_FN(load_)(src + (size_t)(c0 + i) * dystride + xb);
                            HP_FN(transpose_)(r);
#pragma clang loop unroll(full)
                            for (int i = 0; i < HP_VW; i++) HP_FN(store_)(hr + (size_t)(xb + i) * coutp + c0, r[i]);
                        } else {
                            for (int i = 0; i < HP_VW; i++)
                                for (int c = 0; c < HP_VW; c++)
                                    hr[(size_t)(xb + i) * coutp + c0 + c] =
                                        (xb + i < wr && c0 + c < cout) ? src[(size_t)(c0 + c) * dystride + xb + i] : 0.0f;
                        }
                    }
                }
            }
            // D[xi][t][co] = (A dY A^T)[xi] of tile t = row in chunk * rowTiles + tile in row (junk tiles: zeros).
            for (int t = 0; t < tiles; t++) {
                const float *tile = H + ((size_t)(4 * (t / rowTiles)) * wt + 4 * (t % rowTiles)) * coutp;
                for (int c0 = 0; c0 < coutp; c0 += HP_VW) {
                    HP_VEC E[6][4];
#pragma clang loop unroll(full)
                    for (int j = 0; j < 4; j++) {
                        const float *col = tile + (size_t)j * coutp + c0;
                        HP_VEC e[6];
                        HP_FN(wino_a_)(HP_FN(load_)(col), HP_FN(load_)(col + (size_t)wt * coutp),
                                       HP_FN(load_)(col + (size_t)2 * wt * coutp), HP_FN(load_)(col + (size_t)3 * wt * coutp), e);
#pragma clang loop unroll(full)
                        for (int a = 0; a < 6; a++) E[a][j] = e[a];
                    }
#pragma clang loop unroll(full)
                    for (int a = 0; a < 6; a++) {
                        HP_VEC e[6];
                        HP_FN(wino_a_)(E[a][0], E[a][1], E[a][2], E[a][3], e);
#pragma clang loop unroll(full)
                        for (int b = 0; b < 6; b++) HP_FN(store_)(D + (size_t)(a * 6 + b) * dxs + (size_t)t * coutp + c0, e[b]);
                    }
                }
            }
            // V[ci][xi][t]: the forward input transform, tile vector by tile vector.
            for (int r = 0; r < nrows; r++) {
                for (int q = 0; q < nq; q++) {
                    HP_FN(wino_input_)(x, plane, h, w, 4 * (ty0 + r), 4 * HP_VW * (qx0 + q), cin, edge,
                                       V + (size_t)(r * rowTiles + q * HP_VW), WINO_GRAD_TILES, (size_t)36 * WINO_GRAD_TILES);
                }
            }
            if ((coutp / HP_VW) % HP_WNV == 0) {
                HP_FN(wino_grad_gemm_)(V, D, dxs, cin, coutp, tiles, acc, HP_WNV);
            } else {
                HP_FN(wino_grad_gemm_)(V, D, dxs, cin, coutp, tiles, acc, 1);
            }
        }
    }
}
#endif

#undef HP_FENCE_REGS
#undef HP_KEEP
#undef HP_LOADS_AFTER
#undef HP_PREFETCH_INPUT
#undef HP_SUFFIX
#undef HP_TARGET
#undef HP_VEC
#undef HP_VW
#undef HP_MB
#undef HP_NB
#undef HP_WMB
#undef HP_WNV
#undef HP_EVEN
#undef HP_ODD
#undef HP_SHIFT
#undef HP_ILO
#undef HP_IHI
#undef HP_FN
#undef HP_CAT
#undef HP_CAT2

// Direct 3x3 convolution kernels (stride 1, zero padding 1) on a padded-width grid, vectorised for AVX-512,
// AVX2+FMA or plain C, chosen at run time.
//
// The padded-width grid: an image (C, H, W) is stored padded as (C, plane) with plane >= (H + 2) * (W + 2) +
// slack: row r of channel c at c * plane + r * (W + 2), a zero border one pixel wide, zeros after the last row.
// Output pixel (y, x) of a 3x3 convolution then reads the nine values at j + (ky * (W + 2) + kx), where
// j = y * (W + 2) + x, so every output index j in [0, H * (W + 2)) is one dot product over (ci, ky, kx)
// without bounds checks (j with x >= W are junk, discarded by hp_unpad).
#ifndef HP_KERNELS_H
#define HP_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels: 0 plain C (any CPU), 1 AVX2 + FMA, 2 AVX-512F.
enum { HP_LEVEL_GENERIC = 0, HP_LEVEL_AVX2 = 1, HP_LEVEL_AVX512 = 2 };

/// The best level this CPU runs, capped by the environment variable HDRPATCH_SIMD (`avx512`, `avx2` or `generic`)
/// when set: the kernels of a smaller machine, bit for bit, on a larger one (read once per process). A cap at or
/// above the CPU's own level changes nothing.
int hp_cpu_level(void);
/// The best level this CPU runs, whatever HDRPATCH_SIMD says.
int hp_cpu_level_detected(void);
/// The level HDRPATCH_SIMD's value names: -1 for none (NULL or empty), -2 for an unknown name.
int hp_simd_cap(const char *name);
/// The level the kernels run for a requested `level`: clamped to [HP_LEVEL_GENERIC, hp_cpu_level()].
int hp_clamp_level(int level);

/// Output indices computed per block at `level` (hp_conv3x3_forward's j0 must be a multiple of it).
int hp_conv3x3_block(int level);
/// Floats of slack a padded plane needs after (H + 2) * (W + 2) for every kernel at any level (zeroed).
int hp_conv3x3_slack(void);

/// Floats the packed weights of a (cout, cin, 3, 3) convolution take at `level`.
size_t hp_conv3x3_packed_count(int level, int cout, int cin);
/// Packs w (cout, cin, 3, 3) for hp_conv3x3_forward. With `adjoint`, packs instead the weights of the
/// convolution that computes d input from d output: cout' = cin, cin' = cout, w'[a][b][ky][kx] =
/// w[b][a][2 - ky][2 - kx] (hp_conv3x3_packed_count(level, cin, cout) floats).
void hp_conv3x3_pack(int level, const float *w, int cout, int cin, int adjoint, float *packed);

/// y[co * ystride + j] = bias[co] + sum over ci, ky, kx of w[co][ci][ky][kx] * x[ci * plane + j + ky * wp + kx],
/// for co < cout and j in [j0, j1) (j0 a multiple of the block; writes run on to the next block boundary, so
/// ystride must leave room). bias may be NULL.
void hp_conv3x3_forward(int level, const float *packed, const float *bias, int cout, int cin,
                        const float *x, size_t plane, int wp, float *y, size_t ystride, int j0, int j1);

/// Vector floats per accumulator of hp_conv3x3_weight_grad at `level`.
int hp_conv3x3_lanes(int level);
/// acc[((co * cin + ci) * 9 + k) * lanes + l] += partial sums of dy[co * dystride + j] * x[ci * plane + j + off(k)]
/// over j in [j0, j1) (j0, j1 multiples of lanes; dy must be zero at junk and slack indices).
void hp_conv3x3_weight_grad(int level, const float *dy, size_t dystride, int cout, const float *x, size_t plane,
                            int cin, int wp, int j0, int j1, float *acc);
/// dw[i] += sum over lanes of acc[i * lanes + l], i < count.
void hp_reduce_lanes(int level, const float *acc, size_t count, float *dw);

/// Convolutions over a list of taps on padded grids (the U-Net's stride-2 and 1x1 layers and the stride-2 layers' d
/// input, Sources/Numerics/Ops/UNetStack.swift): y[co * ystride + j] = bias[co] + sum over ci and t < nt of
/// packed weight (co, ci, t) * x[ci * plane + j + off[t]], for co < cout and j in [j0, j1) (j0 a multiple of
/// hp_conv3x3_block; writes run on to the next block boundary). nt is 1, 2, 4 or 9 (any other aborts). hp_conv3x3_forward is the case
/// nt = 9, off = ky * wp + kx.
size_t hp_taps_packed_count(int level, int cout, int cin, int nt);
/// Packs the taps taps[0..nt) (indices into the kk taps of each kernel) of w (cout, cin, kk); with `transpose`
/// the packed convolution maps cout -> cin channels with weight (a, b, t) = w[b][a][taps[t]] (d input).
void hp_taps_pack(int level, const float *w, int cout, int cin, int kk, int nt, const int *taps, int transpose,
                  float *packed);
void hp_taps_forward(int level, const float *packed, const float *bias, int cout, int cin, int nt, const int *off,
                     const float *x, size_t plane, float *y, size_t ystride, int j0, int j1);
/// acc[((co * cin + ci) * nt + t) * lanes + l] += partial sums of dy[co * dystride + j] * x[ci * plane + j + off[t]]
/// over j in [0, j1) (a multiple of lanes; dy zero where j is junk) of each of `images` images, dy and x `dyImage` and
/// `xImage` floats apart (nt 1 or 9; any other aborts): the accumulators are read and written once per group of small images. Each lane
/// sums in image and output order, as hp_conv3x3_weight_grad does.
void hp_taps_weight_grad_images(int level, const float *dy, size_t dystride, size_t dyImage, int cout, const float *x,
                                size_t plane, size_t xImage, int cin, int nt, const int *off, int j1, int images,
                                float *acc);
/// dst (c planes of the padded grid of a 2hs x 2ws image, `dplane` apart) = nearest 2x upsampling of the interior of
/// src (c planes of an hs x ws padded grid), zero border and slack.
void hp_upsample2x_padded(const float *src, size_t splane, int c, int hs, int ws, float *dst, size_t dplane);
/// Its adjoint: out (the hs x ws padded grid) interior = the sums of g's 2x2 blocks, zero border and slack.
void hp_upsample2x_adjoint(const float *g, size_t gplane, int c, int hs, int ws, float *out, size_t oplane);
/// The four phases of a padded h x w image (h, w even), for a stride-2 convolution: phase (pr, pc) of channel ch at
/// q + (4 ch + 2 pr + pc) qplane, rows r <= h/2 of w/2 + 2 floats, value xp[(2r + pr)(w + 2) + 2s + pc] at column
/// s <= w/2, zero elsewhere up to qplane. The stride-2 convolution's output at (oy, ox) on the (h/2 x w/2) padded
/// grid is then a sum over taps (ky, kx) of phase (ky % 2, kx % 2) at oy + ky/2, ox + kx/2.
void hp_phase_split(const float *xp, size_t plane, int c, int h, int w, float *q, size_t qplane);
/// The adjoint of hp_phase_split on the interior: dxp[r (w + 2) + s] += the phase value it came from, 1 <= r <= h,
/// 1 <= s <= w.
void hp_phase_merge_add(const float *q, size_t qplane, int c, int h, int w, float *dxp, size_t plane);

/// Winograd F(4x4, 3x3): the same convolution as hp_conv3x3_forward with 4x fewer multiplications in the
/// channel sums (36 per 4x4 output tile and channel pair instead of 144), at about 10x the worst rounding error.
/// Floats of the transformed weights of a (cout, cin, 3, 3) convolution at `level`.
size_t hp_wino_packed_count(int level, int cout, int cin);
/// Transforms w (cout, cin, 3, 3), or with `adjoint` the d-input convolution's weights (as hp_conv3x3_pack),
/// for hp_wino_forward (hp_wino_packed_count(level, cin, cout) floats with adjoint).
void hp_wino_pack(int level, const float *w, int cout, int cin, int adjoint, float *packed);
/// Floats of scratch hp_wino_forward needs.
size_t hp_wino_scratch_count(int level, int cout, int cin);
/// What hp_wino_forward applies to each output v before writing it.
enum { HP_ACT_NONE = 0, HP_ACT_LEAKY = 1, HP_ACT_LEAKY_GRAD = 2 };
/// y[co * ystride + oy * (w + 2) + ox] = act(bias[co] + the 3x3 convolution of the padded input x (cin planes on
/// the padded grid of an h x w image, zero border) at output pixel (oy, ox)), for every oy < h, ox < w; nothing
/// else of y is written. bias may be NULL. act: HP_ACT_NONE (v), HP_ACT_LEAKY (v > 0 ? v : slope * v) or
/// HP_ACT_LEAKY_GRAD (m > 0 ? v : slope * v with m = mask at y's index: LeakyReLU's derivative from its saved
/// output); mask may be NULL unless act is HP_ACT_LEAKY_GRAD.
void hp_wino_forward(int level, const float *packed, const float *bias, int cout, int cin, const float *x,
                     size_t plane, int h, int w, float *y, size_t ystride, float *scratch, int act, float slope,
                     const float *mask);

/// Tiles per Winograd tile vector at `level` (the vector's lanes).
int hp_wino_lanes(int level);
/// Mosaics (mosaic.c): bands of `band` rows (a multiple of 4) of `images` images laid side by side in one padded
/// grid of band x (segs * seg - 2) pixels, segs = images * ceil(h / band), segment s = image * bands + band index at
/// columns [s * seg, s * seg + w + 2) (seg a multiple of 4, >= w + 2), so that Winograd's tile rows on small images
/// fill the vector lanes and every output is computed as on its own image. hp_mosaic_gather: dst (c planes `dplane`
/// apart, dplane >= (band + 2) * segs * seg + hp_conv3x3_slack(), all of it written) = the mosaic of src (images
/// `image` floats apart, c padded planes of h x w `plane` apart), zeros between segments and past row h + 1. The
/// interior of a mosaic of zero-bordered planes is zero wherever it is not an image's interior: the mosaic of an
/// output gradient is hp_wino_weight_grad's dy as it is.
void hp_mosaic_gather(const float *src, size_t image, size_t plane, int images, int c, int h, int w, int band,
                      int seg, float *dst, size_t dplane);
/// The inverse on outputs: the interior of each image's rows (rows 1 ... h, columns 1 ... w of its padded grid) =
/// the mosaic src's values there (c planes `splane` apart); nothing else of dst is written.
void hp_mosaic_scatter(const float *src, size_t splane, int c, int h, int w, int band, int seg, int images,
                       float *dst, size_t image, size_t plane);

/// Winograd weight gradient of the same convolution: the gradient of hp_wino_forward's products with respect to
/// the transformed weights, summed over tiles (acc, hp_wino_grad_acc_count floats, +=), then mapped back to the 3x3
/// taps by hp_wino_grad_finish. In exact arithmetic it is the direct weight gradient; in float about as accurate as
/// the Winograd forward.
size_t hp_wino_grad_acc_count(int level, int cout, int cin);
/// Floats of scratch hp_wino_weight_grad needs (any image size).
size_t hp_wino_grad_scratch_count(int level, int cout, int cin);
/// acc += the transformed-domain weight gradient of one image: dy the padded-grid gradient of the output (cout
/// planes `dystride` apart, interior from row 1, column 1, zero elsewhere not required), x the padded input (cin
/// planes, as hp_wino_forward reads it).
void hp_wino_weight_grad(int level, const float *dy, size_t dystride, int cout, const float *x, size_t plane, int cin,
                         int h, int w, float *scratch, float *acc);
/// dw (cout, cin, 3, 3) += G^T acc G for every (co, ci), in double.
void hp_wino_grad_finish(int level, const float *acc, int cout, int cin, float *dw);

/// Writes x (c, h, w) into xp (c, plane) on the padded grid, zero border and zero slack up to `plane`.
void hp_pad(const float *x, int c, int h, int w, float *xp, size_t plane);
/// out[ch][yy][xx] (=, or += with accumulate) y[ch * ystride + yy * (w + 2) + xx], for xx < w.
void hp_unpad(const float *y, size_t ystride, int c, int h, int w, float *out, int accumulate);

/// After a kernel wrote a padded plane's interior from row 1, column 1 (y = plane + w + 3): applies
/// LeakyReLU(slope) to the h x w interior when `activate`, and restores the zero border, junk columns and
/// slack (everything in [0, plane) outside the interior), for c planes `plane` apart.
void hp_finish_padded(float *yp, int c, int h, int w, size_t plane, int activate, float slope);
/// The same for image rows [r0, r1) only (the border entries of those rows; the top border with r0 = 0, the bottom
/// border and slack with r1 = h): bands of rows finished in parallel, disjoint writes.
void hp_finish_padded_rows(float *yp, int c, int h, int w, size_t plane, int activate, float slope, int r0, int r1);
/// The same for a gradient plane: multiplies the interior by (act > 0 ? 1 : slope) (LeakyReLU's derivative
/// from its saved output, which has the sign of its input) and restores the zeros.
void hp_finish_padded_grad(float *gp, const float *act, int c, int h, int w, size_t plane, float slope);
/// sums[ch] += sum of plane ch (c planes `plane` apart), accumulated in double (in an order fixed by the CPU level).
void hp_plane_sums(const float *p, int c, size_t plane, double *sums);

/// Element-wise maps in double, rounded once to float (vmath.c: libmvec at the AVX2 and AVX-512 levels, libm at
/// the generic one), for i < n:
/// hp_map_log: y[i] = (float)log((double)(x[i] + add)) - sub[i] (sub may be NULL: nothing subtracted).
void hp_map_log(int level, const float *x, float add, const float *sub, float *y, size_t n);
/// hp_map_exp: y[i] = (float)exp((double)(a[i] + b[i])) - sub.
void hp_map_exp(int level, const float *a, const float *b, float sub, float *y, size_t n);
/// hp_map_exp_floor: hp_map_exp, then y[i] = 0 where it is below 0 (NaN kept); returns how many were below 0.
size_t hp_map_exp_floor(int level, const float *a, const float *b, float sub, float *y, size_t n);
/// hp_map_tanh: y[i] = (float)tanh((double)x[i]).
void hp_map_tanh(int level, const float *x, float *y, size_t n);
/// mu_law_l1 and mu_law_mse over one sample's n values (Sources/Losses/MuLawLosses.swift): with e = T(n(out)) -
/// T(n(tgt)), n(v) = tanh(max(v, 0) / q), T(n) = log1p(mu n) / log1p(mu), returns the sum of |e| (squared = 0)
/// or of e^2 (squared != 0), and adds to grad[i] the chained gradient scale * g(e) * dT/dout * (out + eps), g(e)
/// = sign(e) or 2e (dT = 0 where out <= 0: 0 is the reconstruction's lower bound, whose gradient is 0), in double.
double hp_mulaw_loss(int level, int squared, const float *out, const float *tgt, float *grad, size_t n, double q,
                     double mu, double scale, double eps);

/// A part of a parallel job: fn(ctx, part).
typedef void (*hp_pool_fn)(void *ctx, int part);
/// Runs fn(ctx, 0) ..< fn(ctx, parts - 1) and returns when all are done: part 0 on the calling thread, part p on
/// the pool's worker p (always the same thread; workers start on first use, at most 254; parts past
/// the workers run on the calling thread). Allocates nothing
/// after a worker's start. While a job runs, another call (a nested one, or one from another thread) runs its
/// parts on its own thread, in order.
void hp_pool_run(int parts, hp_pool_fn fn, void *ctx);
/// How long an idle worker spins for the next job before it sleeps (default 2 ms).
void hp_pool_set_spin(long nanoseconds);

#ifdef __cplusplus
}
#endif

#endif

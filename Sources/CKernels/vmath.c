// Element-wise maps of the training step (LogNorm's log, the residual head's tanh, the reconstruction's exp and
// log, mu_law_l1's tanh and log1p), in double through glibc's vector math library (libmvec), chosen at run time.
//
// The scalar loops they replace (Float(f(Double(x))) with libm, one call per element) took about 40% of the
// default config's training step (perf, `hdrpatch bench --what step --config configs/plain.yaml`): libmvec
// computes 8 (AVX-512) or 4 (AVX2) doubles per call to the same accuracy class (documented maximum error 4 ulp in
// double, against libm's 1), so after the one rounding to float the results are those of libm in all but the
// rare ties the few extra double ulps can move. The generic level calls libm itself.
//
// The arithmetic around the calls is the scalar code's, operation for operation (no contraction into FMAs, the
// order of the Swift code it replaced), so the levels differ only by the vector functions' own rounding and, for
// mu_law_l1's sum, the order of the additions (per lane, then the lanes).
#include "hp_kernels.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#define HP_X86 1
#endif

#define HP_CAT2(a, b) a##b
#define HP_CAT(a, b) HP_CAT2(a, b)
#define HP_FN(name) HP_CAT(name, HP_SUFFIX)

#ifdef HP_X86
// libmvec's x86-64 vector ABI names: _ZGV + d (AVX2, ymm) or e (AVX-512, zmm) + N<lanes> + v (one vector argument).
#define HP_SUFFIX avx2
#define HP_TARGET __attribute__((target("avx2,fma")))
#define HP_W 4
#define HP_MV(name) _ZGVdN4v_##name
#include "vmath_body.h"

#define HP_SUFFIX avx512
#define HP_TARGET __attribute__((target("avx512f,avx2,fma")))
#define HP_W 8
#define HP_MV(name) _ZGVeN8v_##name
#include "vmath_body.h"
#endif

/// max(x, 0) as Swift's max(x, 0) computes it: NaN stays NaN.
static inline double clamp_low(double x) { return 0 >= x ? 0 : x; }

/// torch.sign: -1, 0 or 1; NaN stays NaN.
static inline double torch_sign(double x) { return x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x)); }

void hp_map_log(int level, const float *x, float add, const float *sub, float *y, size_t n) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: map_log_avx512(x, add, sub, y, n); return;
    case HP_LEVEL_AVX2: map_log_avx2(x, add, sub, y, n); return;
#endif
    default:
        for (size_t i = 0; i < n; i++) y[i] = (float)log((double)(x[i] + add)) - (sub ? sub[i] : 0.0f);
    }
}

void hp_map_exp(int level, const float *a, const float *b, float sub, float *y, size_t n) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: map_exp_avx512(a, b, sub, y, n); return;
    case HP_LEVEL_AVX2: map_exp_avx2(a, b, sub, y, n); return;
#endif
    default:
        for (size_t i = 0; i < n; i++) y[i] = (float)exp((double)(a[i] + b[i])) - sub;
    }
}

size_t hp_map_exp_floor(int level, const float *a, const float *b, float sub, float *y, size_t n) {
    hp_map_exp(level, a, b, sub, y, n);
    size_t below = 0;
    for (size_t i = 0; i < n; i++) {
        const int neg = y[i] < 0.0f;  // false for NaN: a non-finite value stays for the monitor
        below += (size_t)neg;
        y[i] = neg ? 0.0f : y[i];
    }
    return below;
}

void hp_map_tanh(int level, const float *x, float *y, size_t n) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: map_tanh_avx512(x, y, n); return;
    case HP_LEVEL_AVX2: map_tanh_avx2(x, y, n); return;
#endif
    default:
        for (size_t i = 0; i < n; i++) y[i] = (float)tanh((double)x[i]);
    }
}

double hp_mulaw_loss(int level, int squared, const float *out, const float *tgt, float *grad, size_t n, double q,
                     double mu, double scale, double eps) {
    switch (hp_clamp_level(level)) {
#ifdef HP_X86
    case HP_LEVEL_AVX512: return mulaw_loss_avx512(squared, out, tgt, grad, n, q, mu, scale, eps);
    case HP_LEVEL_AVX2: return mulaw_loss_avx2(squared, out, tgt, grad, n, q, mu, scale, eps);
#endif
    default: break;
    }
    const double inv_log_mu = 1 / log1p(mu);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const double x = (double)out[i];
        const double no = tanh(clamp_low(x) / q);
        const double nt = tanh(clamp_low((double)tgt[i]) / q);
        const double e = (log1p(mu * no) - log1p(mu * nt)) * inv_log_mu;
        sum += squared ? e * e : fabs(e);
        // dT/dx = mu / (1 + mu n) / log(1 + mu) * (1 - n^2) / q, for x > 0 (at 0 the output is held by its lower
        // bound, whose gradient is 0: Reconstruction.output).
        const double dt = x > 0 ? mu / (1 + mu * no) * inv_log_mu * (1 - no * no) / q : 0;
        grad[i] += (float)(scale * (squared ? 2 * e : torch_sign(e)) * dt * (x + eps));
    }
    return sum;
}

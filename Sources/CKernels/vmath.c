// Element-wise maps of the training step (LogNorm's log, the residual head's tanh, the reconstruction's exp and
// log, mu_law_l1's tanh and log1p), in double through glibc's vector math library (libmvec), chosen at run time.
//
// The scalar loops they replace (Float(f(Double(x))) with libm, one call per element) took about 40% of the
// default config's training step (perf, `hdrpatch bench --what step --config configs/default.yaml`): libmvec
// computes 8 (AVX-512) or 4 (AVX2) doubles per call to the same accuracy class (documented maximum error 4 ulp in
// double, against libm's 1), so after the one rounding to float the results are those of libm in all but the
// rare ties the few extra double ulps can move. The generic level calls libm itself.
//
// Values travel through small double buffers of HP_VM_BLOCK elements: the vector call, then the scalar arithmetic
// around it exactly as written for one element (no contraction into FMAs, the order of the Swift code it
// replaced), so the levels differ only by the vector functions' own rounding.
#include "hp_kernels.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#define HP_X86 1
#endif

enum { HP_VM_BLOCK = 8 };

typedef void (*hp_vm_fn)(double *v);

// libm, one element at a time: any CPU.
static void log_generic(double *v) {
    for (int i = 0; i < HP_VM_BLOCK; i++) v[i] = log(v[i]);
}
static void exp_generic(double *v) {
    for (int i = 0; i < HP_VM_BLOCK; i++) v[i] = exp(v[i]);
}
static void tanh_generic(double *v) {
    for (int i = 0; i < HP_VM_BLOCK; i++) v[i] = tanh(v[i]);
}
static void log1p_generic(double *v) {
    for (int i = 0; i < HP_VM_BLOCK; i++) v[i] = log1p(v[i]);
}

#ifdef HP_X86
typedef double hp_d4 __attribute__((vector_size(32)));
typedef double hp_d8 __attribute__((vector_size(64)));

// libmvec's x86-64 vector ABI names: _ZGV + d (AVX2, ymm) or e (AVX-512, zmm) + N<lanes> + v (one vector argument).
#define HP_AVX2 __attribute__((target("avx2,fma")))
#define HP_AVX512 __attribute__((target("avx512f,avx2,fma")))
HP_AVX2 hp_d4 _ZGVdN4v_log(hp_d4);
HP_AVX2 hp_d4 _ZGVdN4v_exp(hp_d4);
HP_AVX2 hp_d4 _ZGVdN4v_tanh(hp_d4);
HP_AVX2 hp_d4 _ZGVdN4v_log1p(hp_d4);
HP_AVX512 hp_d8 _ZGVeN8v_log(hp_d8);
HP_AVX512 hp_d8 _ZGVeN8v_exp(hp_d8);
HP_AVX512 hp_d8 _ZGVeN8v_tanh(hp_d8);
HP_AVX512 hp_d8 _ZGVeN8v_log1p(hp_d8);

#define HP_VM_AVX2(name)                                                                                              \
    static HP_AVX2 void name##_avx2(double *v) {                                                                     \
        hp_d4 a, b;                                                                                                   \
        memcpy(&a, v, sizeof a);                                                                                      \
        memcpy(&b, v + 4, sizeof b);                                                                                  \
        a = _ZGVdN4v_##name(a);                                                                                       \
        b = _ZGVdN4v_##name(b);                                                                                       \
        memcpy(v, &a, sizeof a);                                                                                      \
        memcpy(v + 4, &b, sizeof b);                                                                                  \
    }
#define HP_VM_AVX512(name)                                                                                            \
    static HP_AVX512 void name##_avx512(double *v) {                                                                 \
        hp_d8 a;                                                                                                      \
        memcpy(&a, v, sizeof a);                                                                                      \
        a = _ZGVeN8v_##name(a);                                                                                       \
        memcpy(v, &a, sizeof a);                                                                                      \
    }
HP_VM_AVX2(log)
HP_VM_AVX2(exp)
HP_VM_AVX2(tanh)
HP_VM_AVX2(log1p)
HP_VM_AVX512(log)
HP_VM_AVX512(exp)
HP_VM_AVX512(tanh)
HP_VM_AVX512(log1p)
#endif

struct hp_vm {
    hp_vm_fn log, exp, tanh, log1p;
};

static const struct hp_vm *vm(int level) {
    static const struct hp_vm generic = {log_generic, exp_generic, tanh_generic, log1p_generic};
#ifdef HP_X86
    static const struct hp_vm avx2 = {log_avx2, exp_avx2, tanh_avx2, log1p_avx2};
    static const struct hp_vm avx512 = {log_avx512, exp_avx512, tanh_avx512, log1p_avx512};
    switch (hp_clamp_level(level)) {
    case HP_LEVEL_AVX512: return &avx512;
    case HP_LEVEL_AVX2: return &avx2;
    default: return &generic;
    }
#else
    (void)level;
    return &generic;
#endif
}

// A block of k <= HP_VM_BLOCK elements starting at i; lanes past k hold 1.0 (finite in every function here).
#define HP_VM_BLOCKS(n, i, k)                                                                                         \
    for (size_t i = 0, k = (n) < HP_VM_BLOCK ? (n) : HP_VM_BLOCK; i < (n);                                            \
         i += HP_VM_BLOCK, k = (n) - i < HP_VM_BLOCK ? (n) - i : HP_VM_BLOCK)

void hp_map_log(int level, const float *x, float add, const float *sub, float *y, size_t n) {
    const hp_vm_fn f = vm(level)->log;
    double v[HP_VM_BLOCK];
    HP_VM_BLOCKS(n, i, k) {
        for (size_t j = 0; j < HP_VM_BLOCK; j++) v[j] = j < k ? (double)(x[i + j] + add) : 1.0;
        f(v);
        if (sub) {
            for (size_t j = 0; j < k; j++) y[i + j] = (float)v[j] - sub[i + j];
        } else {
            for (size_t j = 0; j < k; j++) y[i + j] = (float)v[j];
        }
    }
}

void hp_map_exp(int level, const float *a, const float *b, float sub, float *y, size_t n) {
    const hp_vm_fn f = vm(level)->exp;
    double v[HP_VM_BLOCK];
    HP_VM_BLOCKS(n, i, k) {
        for (size_t j = 0; j < HP_VM_BLOCK; j++) v[j] = j < k ? (double)(a[i + j] + b[i + j]) : 1.0;
        f(v);
        for (size_t j = 0; j < k; j++) y[i + j] = (float)v[j] - sub;
    }
}

void hp_map_tanh(int level, const float *x, float *y, size_t n) {
    const hp_vm_fn f = vm(level)->tanh;
    double v[HP_VM_BLOCK];
    HP_VM_BLOCKS(n, i, k) {
        for (size_t j = 0; j < HP_VM_BLOCK; j++) v[j] = j < k ? (double)x[i + j] : 1.0;
        f(v);
        for (size_t j = 0; j < k; j++) y[i + j] = (float)v[j];
    }
}

/// max(x, 0) as Swift's max(x, 0) computes it: NaN stays NaN.
static inline double clamp_low(double x) { return 0 >= x ? 0 : x; }

/// torch.sign: -1, 0 or 1; NaN stays NaN.
static inline double torch_sign(double x) { return x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x)); }

double hp_mulaw_l1(int level, const float *out, const float *tgt, float *grad, size_t n, double q, double mu,
                   double scale, double eps) {
    const struct hp_vm *m = vm(level);
    const double inv_log_mu = 1 / log1p(mu);
    double no[HP_VM_BLOCK], nt[HP_VM_BLOCK], lo[HP_VM_BLOCK], lt[HP_VM_BLOCK];
    double sum = 0;
    HP_VM_BLOCKS(n, i, k) {
        for (size_t j = 0; j < HP_VM_BLOCK; j++) {
            no[j] = j < k ? clamp_low((double)out[i + j]) / q : 1.0;
            nt[j] = j < k ? clamp_low((double)tgt[i + j]) / q : 1.0;
        }
        m->tanh(no);
        m->tanh(nt);
        for (size_t j = 0; j < HP_VM_BLOCK; j++) {
            lo[j] = mu * no[j];
            lt[j] = mu * nt[j];
        }
        m->log1p(lo);
        m->log1p(lt);
        for (size_t j = 0; j < k; j++) {
            const double x = (double)out[i + j];
            const double e = (lo[j] - lt[j]) * inv_log_mu;
            sum += fabs(e);
            // dT/dx = mu / (1 + mu n) / log(1 + mu) * (1 - n^2) / q, for x >= 0.
            const double dt = x >= 0 ? mu / (1 + mu * no[j]) * inv_log_mu * (1 - no[j] * no[j]) / q : 0;
            grad[i + j] += (float)(scale * torch_sign(e) * dt * (x + eps));
        }
    }
    return sum;
}

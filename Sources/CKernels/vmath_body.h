// The vector paths of vmath.c, included once per instruction-set variant with HP_SUFFIX (name suffix), HP_TARGET
// (function attribute), HP_W (doubles per vector) and HP_MV(name) (libmvec's function of that width) defined.
// Whole vectors straight from and to the float buffers; the last partial vector through a buffer padded with 1.0.
typedef double HP_CAT(hp_dv_, HP_SUFFIX) __attribute__((vector_size(HP_W * 8)));
typedef float HP_CAT(hp_fv_, HP_SUFFIX) __attribute__((vector_size(HP_W * 4)));
typedef long long HP_CAT(hp_lv_, HP_SUFFIX) __attribute__((vector_size(HP_W * 8)));
#define HP_DV HP_CAT(hp_dv_, HP_SUFFIX)
#define HP_FV HP_CAT(hp_fv_, HP_SUFFIX)
#define HP_LV HP_CAT(hp_lv_, HP_SUFFIX)

HP_TARGET HP_DV HP_MV(log)(HP_DV);
HP_TARGET HP_DV HP_MV(exp)(HP_DV);
HP_TARGET HP_DV HP_MV(tanh)(HP_DV);
HP_TARGET HP_DV HP_MV(log1p)(HP_DV);

static inline HP_TARGET HP_FV HP_FN(loadf_)(const float *p) {
    HP_FV v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline HP_TARGET void HP_FN(storef_)(float *p, HP_FV v) { memcpy(p, &v, sizeof v); }
static inline HP_TARGET HP_DV HP_FN(todouble_)(HP_FV v) { return __builtin_convertvector(v, HP_DV); }
static inline HP_TARGET HP_FV HP_FN(tofloat_)(HP_DV v) { return __builtin_convertvector(v, HP_FV); }
/// m ? a : b lane by lane, m a comparison's result (all ones or zero).
static inline HP_TARGET HP_DV HP_FN(select_)(HP_LV m, HP_DV a, HP_DV b) {
    return (HP_DV)((m & (HP_LV)a) | (~m & (HP_LV)b));
}
static inline HP_TARGET HP_DV HP_FN(splat_)(double x) {
    HP_DV v;
    for (int j = 0; j < HP_W; j++) v[j] = x;
    return v;
}

/// Copies the k < HP_W floats at p into a vector's worth padded with 1.0.
static inline HP_TARGET void HP_FN(pad_)(float *buf, const float *p, size_t k) {
    for (int j = 0; j < HP_W; j++) buf[j] = (size_t)j < k ? p[j] : 1.0f;
}

static HP_TARGET void HP_FN(map_log_)(const float *x, float add, const float *sub, float *y, size_t n) {
    HP_FV a = {0};
    a += add;
    float bx[HP_W], bs[HP_W], by[HP_W];
    for (size_t i = 0; i < n; i += HP_W) {
        const size_t k = n - i < HP_W ? n - i : HP_W;
        const float *px = x + i, *ps = sub ? sub + i : NULL;
        float *py = y + i;
        if (k < HP_W) {
            HP_FN(pad_)(bx, px, k);
            if (sub) HP_FN(pad_)(bs, ps, k);
            px = bx, ps = sub ? bs : NULL, py = by;
        }
        HP_FV v = HP_FN(tofloat_)(HP_MV(log)(HP_FN(todouble_)(HP_FN(loadf_)(px) + a)));
        if (ps) v -= HP_FN(loadf_)(ps);
        HP_FN(storef_)(py, v);
        if (k < HP_W) memcpy(y + i, by, k * sizeof(float));
    }
}

static HP_TARGET void HP_FN(map_exp_)(const float *a, const float *b, float sub, float *y, size_t n) {
    HP_FV s = {0};
    s += sub;
    float ba[HP_W], bb[HP_W], by[HP_W];
    for (size_t i = 0; i < n; i += HP_W) {
        const size_t k = n - i < HP_W ? n - i : HP_W;
        const float *pa = a + i, *pb = b + i;
        float *py = y + i;
        if (k < HP_W) {
            HP_FN(pad_)(ba, pa, k);
            HP_FN(pad_)(bb, pb, k);
            pa = ba, pb = bb, py = by;
        }
        const HP_FV v = HP_FN(tofloat_)(HP_MV(exp)(HP_FN(todouble_)(HP_FN(loadf_)(pa) + HP_FN(loadf_)(pb)))) - s;
        HP_FN(storef_)(py, v);
        if (k < HP_W) memcpy(y + i, by, k * sizeof(float));
    }
}

static HP_TARGET void HP_FN(map_tanh_)(const float *x, float *y, size_t n) {
    float bx[HP_W], by[HP_W];
    for (size_t i = 0; i < n; i += HP_W) {
        const size_t k = n - i < HP_W ? n - i : HP_W;
        const float *px = x + i;
        float *py = y + i;
        if (k < HP_W) {
            HP_FN(pad_)(bx, px, k);
            px = bx, py = by;
        }
        HP_FN(storef_)(py, HP_FN(tofloat_)(HP_MV(tanh)(HP_FN(todouble_)(HP_FN(loadf_)(px)))));
        if (k < HP_W) memcpy(y + i, by, k * sizeof(float));
    }
}

/// hp_mulaw_loss for this width: |e| (or e^2) summed per lane, the lanes added in order at the end. Padding lanes
/// (output and target 1.0) are left out of the sum by their zero mask and write nothing.
static HP_TARGET double HP_FN(mulaw_loss_)(int squared, const float *out, const float *tgt, float *grad, size_t n,
                                           double q, double mu, double scale, double eps) {
    const HP_DV zero = HP_FN(splat_)(0), one = HP_FN(splat_)(1), minus = HP_FN(splat_)(-1);
    const HP_DV vq = HP_FN(splat_)(q), vmu = HP_FN(splat_)(mu), vscale = HP_FN(splat_)(scale);
    const HP_DV veps = HP_FN(splat_)(eps), inv = HP_FN(splat_)(1 / log1p(mu));
    const HP_LV absmask = (HP_LV)HP_FN(splat_)(0) | 0x7fffffffffffffffLL;
    HP_DV acc = zero;
    float bo[HP_W], bt[HP_W], bg[HP_W];
    for (size_t i = 0; i < n; i += HP_W) {
        const size_t k = n - i < HP_W ? n - i : HP_W;
        const float *po = out + i, *pt = tgt + i;
        float *pg = grad + i;
        HP_LV live = (HP_LV)(zero == zero);
        if (k < HP_W) {
            HP_FN(pad_)(bo, po, k);
            HP_FN(pad_)(bt, pt, k);
            HP_FN(pad_)(bg, pg, k);
            for (int j = 0; j < HP_W; j++) live[j] = (size_t)j < k ? -1 : 0;
            po = bo, pt = bt, pg = bg;
        }
        const HP_DV x = HP_FN(todouble_)(HP_FN(loadf_)(po));
        const HP_DV t = HP_FN(todouble_)(HP_FN(loadf_)(pt));
        // max(v, 0) with NaN kept, as Swift's max(v, 0).
        const HP_DV no = HP_MV(tanh)(HP_FN(select_)(zero >= x, zero, x) / vq);
        const HP_DV nt = HP_MV(tanh)(HP_FN(select_)(zero >= t, zero, t) / vq);
        const HP_DV e = (HP_MV(log1p)(vmu * no) - HP_MV(log1p)(vmu * nt)) * inv;
        acc += (HP_DV)((HP_LV)(squared ? e * e : e) & absmask & live);
        // dT/dx = mu / (1 + mu n) / log(1 + mu) * (1 - n^2) / q, for x > 0 (0: held by the output's lower bound).
        const HP_DV dt = HP_FN(select_)(x > zero, vmu / (one + vmu * no) * inv * (one - no * no) / vq, zero);
        // torch.sign(e), NaN staying NaN; or d e^2 / de = 2e.
        const HP_DV sign = squared ? e + e
                                   : HP_FN(select_)(e > zero, one,
                                                    HP_FN(select_)(e < zero, minus, HP_FN(select_)(e == zero, zero, e)));
        HP_FN(storef_)(pg, HP_FN(loadf_)(pg) + HP_FN(tofloat_)(vscale * sign * dt * (x + veps)));
        if (k < HP_W) memcpy(grad + i, bg, k * sizeof(float));
    }
    double sum = 0;
    for (int j = 0; j < HP_W; j++) sum += acc[j];
    return sum;
}

#undef HP_DV
#undef HP_FV
#undef HP_LV
#undef HP_SUFFIX
#undef HP_TARGET
#undef HP_W
#undef HP_MV

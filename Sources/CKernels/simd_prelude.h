// Shared head of the kernel templates (conv3x3_body.h, winograd_body.h), included once per instruction-set
// variant with HP_SUFFIX (name suffix), HP_TARGET (function attribute) and HP_VEC (vector type) defined:
// name suffixing and unaligned vector loads and stores. The template undefines HP_CAT, HP_CAT2 and HP_FN at its end.
#define HP_CAT2(a, b) a##b
#define HP_CAT(a, b) HP_CAT2(a, b)
#define HP_FN(name) HP_CAT(name, HP_SUFFIX)

static inline HP_TARGET HP_VEC HP_FN(load_)(const float *p) {
    HP_VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline HP_TARGET void HP_FN(store_)(float *p, HP_VEC v) { memcpy(p, &v, sizeof v); }

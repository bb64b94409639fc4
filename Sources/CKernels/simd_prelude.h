// Shared head of the kernel templates (conv3x3_body.h, winograd_body.h), included once per instruction-set
// variant with HP_SUFFIX (name suffix), HP_TARGET (function attribute) and HP_VEC (vector type) defined:
// name suffixing and unaligned vector loads and stores. The template undefines HP_CAT, HP_CAT2 and HP_FN at its end.
#define HP_CAT2(a, b) a##b
#define HP_CAT(a, b) HP_CAT2(a, b)
#define HP_FN(name) HP_CAT(name, HP_SUFFIX)

// Register fences for the register-blocked inner loops (variants that define HP_FENCE_REGS: AVX2). A block of 4
// output channels x 3 vectors needs 12 accumulators, 3 input vectors and 1 broadcast weight: all 16 ymm registers.
// Without the fences clang schedules the next channel's broadcast before the last product of the previous one,
// needs a 17th register and keeps one accumulator on the stack, a store and a reload in every iteration of the
// loop over input channels: the Winograd GEMM of a w32 l3 U-Net step ran at half the FMA rate (perf annotate,
// AVX2, 2026-12-07). HP_KEEP(v) makes v's value final at this point; HP_LOADS_AFTER() keeps later loads (the next
// broadcast) after it. They emit no instruction and change no result.
#ifdef HP_FENCE_REGS
#define HP_KEEP(v) __asm__ volatile("" : "+x"(v))
#define HP_LOADS_AFTER() __asm__ volatile("" ::: "memory")
#else
#define HP_KEEP(v) ((void)0)
#define HP_LOADS_AFTER() ((void)0)
#endif

static inline HP_TARGET HP_VEC HP_FN(load_)(const float *p) {
    HP_VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline HP_TARGET void HP_FN(store_)(float *p, HP_VEC v) { memcpy(p, &v, sizeof v); }

// The one place Numerics calls OpenBLAS: a typed row-major sgemm, so the ops read in matrix terms.
import CBLAS

/// C (m, n) = alpha * op(A) * op(B) + beta * C, all row-major and densely packed.
/// - Parameter c: (m, n), leading dimension n.
/// - Parameter a: op(A) is (m, k): A is (m, k), or (k, m) when `transposeA`.
/// - Parameter b: op(B) is (k, n): B is (k, n), or (n, k) when `transposeB`.
@inline(__always)
func sgemm(
    c: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
    alpha: Float = 1, beta: Float
) {
    precondition(m >= 0 && n >= 0 && k >= 0)
    if m == 0 || n == 0 { return }
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        blasint(m), blasint(n), blasint(k), alpha,
        a, blasint(transposeA ? m : k), b, blasint(transposeB ? k : n), beta, c, blasint(n))
}

/// OpenBLAS's own thread count, set only where it changes (the im2col convolutions choose between OpenBLAS's
/// threads and splitting the batch over `Parallel`'s).
package enum BLASThreads {
    package static func set(_ count: Int) {
        let count = max(1, count)
        if openblas_get_num_threads() != Int32(count) { openblas_set_num_threads(Int32(count)) }
    }
}

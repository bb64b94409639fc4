// OpenBLAS is found through pkg-config and computes a small product exactly.
import CBLAS
import Testing

struct CBLASLinkTests {
    @Test func sgemmMatchesTheSchoolbookProduct() {
        // (2x3) * (3x2), row-major, small integers: exact in float.
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: -1, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, &c, 2)
        #expect(c == [58, 64, 139, 154])
    }
}

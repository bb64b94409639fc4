// Tensor layout: NCHW row-major indexing over one contiguous buffer.
import Testing

@testable import Numerics

struct TensorTests {
    @Test func nchwIndexingIsRowMajor() {
        var t = Tensor(zeros: [2, 3, 4, 5])
        t[1, 2, 3, 4] = 9
        #expect(t.storage[((1 * 3 + 2) * 4 + 3) * 5 + 4] == 9)
        #expect(t.count == 120 && t.sampleCount == 60 && t.rank == 4)
        #expect(t.reshaped([2, 60]).storage == t.storage)
    }
}

// The tensor every stage passes along: float32, NCHW (or any rank), contiguous, row-major.

/// A dense float32 tensor. `storage` holds `shape.reduce(1, *)` values in row-major order, so an NCHW
/// batch is one contiguous buffer (never an array of arrays). Value semantics: copies share storage until
/// one of them writes.
package struct Tensor: Sendable, Equatable {
    package private(set) var shape: [Int]
    package var storage: [Float]

    package init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(storage.count == shape.reduce(1, *), "Tensor: \(storage.count) values for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    package init(zeros shape: [Int]) {
        self.init(shape: shape, storage: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    package var count: Int { storage.count }
    package var rank: Int { shape.count }

    /// Values per sample along the first axis (C*H*W for NCHW).
    package var sampleCount: Int { shape.isEmpty ? 1 : (shape[0] == 0 ? 0 : count / shape[0]) }

    /// NCHW element access, for tests and reference code; hot paths use buffer pointers.
    package subscript(n: Int, c: Int, h: Int, w: Int) -> Float {
        get { storage[((n * shape[1] + c) * shape[2] + h) * shape[3] + w] }
        set { storage[((n * shape[1] + c) * shape[2] + h) * shape[3] + w] = newValue }
    }

    /// Same values, new shape with the same element count.
    package func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }
}

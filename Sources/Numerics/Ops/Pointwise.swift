// Plumbing shared by the elementwise ops: shape checks and buffer access in one place, so each op's file
// shows only its formula.

/// Calls `body(out, a, count)` over two same-shaped tensors; `out` is written (or accumulated) by the op.
@inline(__always)
func withPointwise(
    _ out: inout Tensor, _ a: Tensor, _ what: @autoclosure () -> String,
    _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
) {
    requireSameShape(out, a, what())
    let n = out.count
    a.storage.withUnsafeBufferPointer { a in
        out.storage.withUnsafeMutableBufferPointer { o in
            guard let o = o.baseAddress, let a = a.baseAddress else { return }
            body(o, a, n)
        }
    }
}

/// Calls `body(out, a, b, count)` over three same-shaped tensors.
@inline(__always)
func withPointwise(
    _ out: inout Tensor, _ a: Tensor, _ b: Tensor, _ what: @autoclosure () -> String,
    _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void
) {
    requireSameShape(out, a, what())
    requireSameShape(out, b, what())
    let n = out.count
    a.storage.withUnsafeBufferPointer { a in
        b.storage.withUnsafeBufferPointer { b in
            out.storage.withUnsafeMutableBufferPointer { o in
                guard let o = o.baseAddress, let a = a.baseAddress, let b = b.baseAddress else { return }
                body(o, a, b, n)
            }
        }
    }
}

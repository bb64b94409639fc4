// Shape checks shared by the ops: a wrong shape is a programming error, so it traps with both shapes named.

@inline(__always)
func requireSameShape(_ a: Tensor, _ b: Tensor, _ what: @autoclosure () -> String) {
    precondition(a.shape == b.shape, "\(what()): shape \(a.shape) vs \(b.shape)")
}

@inline(__always)
func requireShape(_ t: Tensor, _ shape: [Int], _ what: @autoclosure () -> String) {
    precondition(t.shape == shape, "\(what()): expected shape \(shape), got \(t.shape)")
}

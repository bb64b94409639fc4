// Shape checks shared by the ops: a wrong shape is a programming error, so it traps with both shapes named.

@inline(__always)
func requireSameShape(_ a: Tensor, _ b: Tensor, _ what: @autoclosure () -> String) {
    precondition(a.shape == b.shape, "\(what()): shape \(a.shape) vs \(b.shape)")
}

@inline(__always)
func requireShape(_ t: Tensor, _ shape: [Int], _ what: @autoclosure () -> String) {
    precondition(t.shape == shape, "\(what()): expected shape \(shape), got \(t.shape)")
}

/// The same for a 4-D shape, compared axis by axis: builds no array unless it fails (for the per-step ops).
@inline(__always)
func requireShape(_ t: Tensor, _ n: Int, _ c: Int, _ h: Int, _ w: Int, _ what: @autoclosure () -> String) {
    let s = t.shape
    precondition(
        s.count == 4 && s[0] == n && s[1] == c && s[2] == h && s[3] == w,
        "\(what()): expected shape \([n, c, h, w]), got \(s)")
}

// Smooth random texture for procedural scenes: fractal value noise on random lattices.
import Numerics

/// Sum of `octaves` layers of lattice noise, the first with cells of `cell` pixels, each next with half the
/// cell and half the amplitude; lattice values uniform in [0, 1) from the given stream, interpolated with
/// smoothstep. The result is normalised to [0, 1).
struct ValueNoise {
    private struct Layer {
        var cell: Double
        var columns: Int
        var values: [Double]  // (rows, columns) lattice
    }
    private var layers: [Layer] = []
    private var totalAmplitude = 0.0

    init(width: Int, height: Int, cell: Int, octaves: Int, rng: inout SeededRNG) {
        var c = Double(max(cell, 1))
        for _ in 0..<octaves {
            let columns = Int(Double(width) / c) + 2
            let rows = Int(Double(height) / c) + 2
            layers.append(Layer(cell: c, columns: columns, values: (0..<(rows * columns)).map { _ in rng.uniform() }))
            c = max(c / 2, 1)
        }
        totalAmplitude = (0..<octaves).reduce(0.0) { s, o in s + 1 / Double(1 << o) }
    }

    /// Value at pixel centre (x, y), in [0, 1).
    func callAsFunction(_ x: Int, _ y: Int) -> Double {
        var sum = 0.0
        var amplitude = 1.0
        for layer in layers {
            let u = Double(x) / layer.cell
            let v = Double(y) / layer.cell
            let i = Int(u)
            let j = Int(v)
            let fu = smooth(u - Double(i))
            let fv = smooth(v - Double(j))
            let row0 = j * layer.columns
            let row1 = row0 + layer.columns
            let a = layer.values[row0 + i]
            let b = layer.values[row0 + i + 1]
            let c = layer.values[row1 + i]
            let d = layer.values[row1 + i + 1]
            sum += amplitude * ((a * (1 - fu) + b * fu) * (1 - fv) + (c * (1 - fu) + d * fu) * fv)
            amplitude /= 2
        }
        return sum / totalAmplitude
    }

    private func smooth(_ t: Double) -> Double { t * t * (3 - 2 * t) }
}

// Synthetic HDR scenes with real dynamic range (sun, sky, lamps, textured sunlit and shadowed surfaces).
import EXRIO
import Glibc
import Numerics

/// A street-like scene in linear scene units (lit ground ~1): a sky gradient with clouds, a sun disk of
/// 2e4-6e4 with its halo, walls with brick texture, lit or self-shadowed, with emissive and dark windows and a
/// dark doorway (~1e-4 to 1e-3), textured ground with the walls' cast shadows (ambient only, ~0.005-0.06),
/// and street lamps (300-3000) with light pools. Luminance spans well over 20 stops on a 512 x 256 render.
/// Everything comes from `SynthStreams.scene(seed:index:)`: the same (size, seed, index) gives the same image.
package enum ProceduralScene {
    package static let defaultWidth = 512
    package static let defaultHeight = 256

    /// - Returns: (3, height, width), finite, >= 0. Sizes below 32 x 32 are refused (a precondition).
    package static func render(width: Int, height: Int, seed: UInt64, index: Int = 0) -> HDRImage {
        precondition(width >= 32 && height >= 32, "procedural scenes need at least 32 x 32, got \(width) x \(height)")
        var rng = SynthStreams.scene(seed: seed, index: index)
        let layout = SceneLayout(width: width, height: height, rng: &rng)
        let clouds = ValueNoise(width: width, height: height, cell: max(width / 6, 8), octaves: 4, rng: &rng)
        let soil = ValueNoise(width: width, height: height, cell: 32, octaves: 5, rng: &rng)
        let grain = ValueNoise(width: width, height: height, cell: 4, octaves: 2, rng: &rng)
        var image = HDRImage(width: width, height: height)
        let n = width * height
        image.pixels.withUnsafeMutableBufferPointer { p in
            for y in 0..<height {
                for x in 0..<width {
                    var c = layout.surface(x, y, clouds: clouds, soil: soil, grain: grain)
                    c = c + layout.lampLight(x, y)
                    p[y * width + x] = Float(c.r)
                    p[n + y * width + x] = Float(c.g)
                    p[2 * n + y * width + x] = Float(c.b)
                }
            }
        }
        return image
    }
}

struct RGB {
    var r, g, b: Double
    static func + (a: RGB, b: RGB) -> RGB { RGB(r: a.r + b.r, g: a.g + b.g, b: a.b + b.b) }
    static func * (a: RGB, s: Double) -> RGB { RGB(r: a.r * s, g: a.g * s, b: a.b * s) }
    static func * (a: RGB, b: RGB) -> RGB { RGB(r: a.r * b.r, g: a.g * b.g, b: a.b * b.b) }
    func mix(_ o: RGB, _ t: Double) -> RGB { self * (1 - t) + o * t }
}

/// Positions and sizes drawn once per scene; `surface` then shades any pixel from them.
struct SceneLayout {
    struct Wall {
        var x0, x1, top, base: Int
        var albedo: RGB
        var sunlit: Bool
        /// Window cells lit from inside, by (row, column) of the window grid.
        var lit: Set<Int>
        var windowRadiance: Double
        var doorX: Int
        var doorRadiance: Double
    }
    struct Lamp {
        var x, head, base: Int
        var radiance: Double
    }

    let width, height: Int
    let horizon: Int
    let sunX, sunY, sunRadius, sunRadiance: Double
    let walls: [Wall]  // far (small base) to near, so later ones are drawn in front
    let lamps: [Lamp]

    static let sunColor = RGB(r: 1, g: 0.93, b: 0.82)
    static let lampColor = RGB(r: 1, g: 0.78, b: 0.5)
    static let sunIrradiance = 3.0
    static let ambient = 0.12

    init(width: Int, height: Int, rng: inout SeededRNG) {
        self.width = width
        self.height = height
        let w = Double(width)
        let h = Double(height)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.uniform() }
        horizon = Int(h * uniform(0.45, 0.6))
        sunX = w * uniform(0.15, 0.85)
        // The sun stays above every wall top (walls start at 0.55 horizon), so no wall hides it.
        sunY = Double(horizon) * uniform(0.15, 0.45)
        sunRadius = max(2.5, w * 0.011)
        sunRadiance = exp(uniform(log(2e4), log(6e4)))
        var walls: [Wall] = []
        for _ in 0..<(2 + Int(rng.below(3))) {
            let ww = Int(w * uniform(0.1, 0.22))
            let x0 = Int(uniform(0, w - Double(ww)))
            let base = min(horizon + Int(h * uniform(0.04, 0.3)), height - 2)
            let top = max(base - Int(h * uniform(0.2, 0.5)), Int(0.55 * Double(horizon)))
            let grey = uniform(0.15, 0.6)
            var lit = Set<Int>()
            for cell in 0..<64 where rng.uniform() < 0.3 { lit.insert(cell) }
            walls.append(
                Wall(
                    x0: x0, x1: x0 + ww, top: top, base: base,
                    albedo: RGB(r: grey * uniform(0.8, 1.2), g: grey * uniform(0.75, 1), b: grey * uniform(0.6, 0.9)),
                    sunlit: rng.uniform() < 0.5, lit: lit, windowRadiance: exp(uniform(log(20), log(400))),
                    doorX: x0 + Int(Double(ww) * uniform(0.2, 0.6)), doorRadiance: exp(uniform(log(4e-4), log(2e-3)))))
        }
        self.walls = walls.sorted { $0.base < $1.base }
        var lamps: [Lamp] = []
        for _ in 0..<(2 + Int(rng.below(3))) {
            let base = min(horizon + Int(h * uniform(0.1, 0.4)), height - 1)
            lamps.append(
                Lamp(
                    x: Int(uniform(0.05, 0.95) * w), head: base - Int(h * uniform(0.15, 0.3)), base: base,
                    radiance: exp(uniform(log(300), log(3000)))))
        }
        self.lamps = lamps
    }

    /// Radiance of the opaque surface at (x, y): a lamp pole, else the nearest wall covering it, else sky above
    /// the horizon, else ground.
    func surface(_ x: Int, _ y: Int, clouds: ValueNoise, soil: ValueNoise, grain: ValueNoise) -> RGB {
        if lamps.contains(where: { x == $0.x && y > $0.head + 2 && y <= $0.base }) {
            return RGB(r: 0.03, g: 0.03, b: 0.03) * (Self.ambient + lampIrradiance(x, y))  // lamp pole
        }
        if let wall = walls.last(where: { x >= $0.x0 && x < $0.x1 && y >= $0.top && y <= $0.base }) {
            return facade(wall, x, y, grain: grain)
        }
        return y < horizon ? sky(x, y, clouds: clouds) : ground(x, y, soil: soil, grain: grain)
    }

    func sky(_ x: Int, _ y: Int, clouds: ValueNoise) -> RGB {
        let t = pow(Double(y) / Double(horizon), 1.5)
        var c = RGB(r: 0.2, g: 0.36, b: 0.8).mix(RGB(r: 2.5, g: 2.1, b: 1.75), t)
        let cover = min(max((clouds(x, y) - 0.5) / 0.3, 0), 1)
        c = c.mix(RGB(r: 2.4, g: 2.4, b: 2.5) * (0.6 + 0.6 * clouds(x / 2, y / 2)), 0.8 * cover)
        let d = ((Double(x) - sunX) * (Double(x) - sunX) + (Double(y) - sunY) * (Double(y) - sunY)).squareRoot()
        let w = Double(width)
        c = c + Self.sunColor * (40 * exp(-d / (0.02 * w)) + 4 * exp(-d / (0.12 * w)))
        if d <= sunRadius {
            // Limb darkening keeps the disk from being one flat value.
            c = c + Self.sunColor * (sunRadiance * (1 - 0.3 * (d / sunRadius) * (d / sunRadius)))
        }
        return c
    }

    func ground(_ x: Int, _ y: Int, soil: ValueNoise, grain: ValueNoise) -> RGB {
        let s = soil(x, y)
        let g = grain(x, y)
        let albedo = RGB(r: 0.55, g: 0.45, b: 0.33) * (0.06 + 0.6 * s * s) * (0.8 + 0.4 * g)
        let sun = inCastShadow(x, y) ? 0 : Self.sunIrradiance
        return albedo * (Self.ambient + sun + lampIrradiance(x, y))
    }

    /// The walls' shadows fall toward the viewer (the sun is behind the scene, in the visible sky) and sideways
    /// away from the sun, longer when the sun is lower.
    func inCastShadow(_ x: Int, _ y: Int) -> Bool {
        for wall in walls where y > wall.base {
            let depth = Double(wall.base - wall.top) * (0.3 + 1.2 * sunY / Double(horizon))
            let dy = Double(y - wall.base)
            guard dy <= depth else { continue }
            let centre = Double(wall.x0 + wall.x1) / 2
            let shear = (centre - sunX) / (Double(horizon) - sunY) * 0.5
            let sx = Double(x) - shear * dy
            if sx >= Double(wall.x0) && sx < Double(wall.x1) { return true }
        }
        return false
    }

    func facade(_ wall: Wall, _ x: Int, _ y: Int, grain: ValueNoise) -> RGB {
        let lx = x - wall.x0
        let ly = wall.base - y
        // Doorway: a dark interior, the scene's deepest shadow.
        if x >= wall.doorX && x < wall.doorX + 10 && ly < 18 {
            return RGB(r: 0.9, g: 0.95, b: 1) * (wall.doorRadiance * (0.4 + 0.6 * grain(x, y)))
        }
        // Windows: 6 x 8 cells on a 14 x 16 grid, kept clear of the edges and the door storey.
        let col = (lx - 4) / 14
        let row = (ly - 22) / 16
        if lx >= 4, ly >= 22, lx < wall.x1 - wall.x0 - 4, wall.base - y < wall.base - wall.top - 4,
            (lx - 4) % 14 < 6, (ly - 22) % 16 < 8
        {
            if wall.lit.contains((row * 8 + col) % 64) {
                return Self.lampColor * (wall.windowRadiance * (0.85 + 0.3 * grain(x, y)))
            }
            return RGB(r: 0.03, g: 0.035, b: 0.045) * (1 + 0.5 * grain(x, y))
        }
        // Bricks: 6-pixel courses, 12-pixel bricks staggered by half, darker mortar.
        let mortar = ly % 6 == 0 || (lx + (ly / 6 % 2) * 6) % 12 == 0
        let tex = (mortar ? 0.5 : 1.0) * (0.7 + 0.6 * grain(x, y))
        let light = (wall.sunlit ? 0.7 * Self.sunIrradiance : 0) + Self.ambient + lampIrradiance(x, y)
        return wall.albedo * (tex * light)
    }

    /// Light a lamp throws onto nearby surfaces (a soft pool around its head).
    func lampIrradiance(_ x: Int, _ y: Int) -> Double {
        var e = 0.0
        for lamp in lamps {
            let dx = Double(x - lamp.x)
            let dy = Double(y - lamp.head)
            e += lamp.radiance * 0.004 * exp(-(dx * dx + dy * dy) / (2 * 18 * 18))
        }
        return e
    }

    /// Emitted and scattered lamp light seen directly: the head disk and a small halo.
    func lampLight(_ x: Int, _ y: Int) -> RGB {
        var c = RGB(r: 0, g: 0, b: 0)
        for lamp in lamps {
            let dx = Double(x - lamp.x)
            let dy = Double(y - lamp.head)
            let d = (dx * dx + dy * dy).squareRoot()
            if d <= 2.5 { c = c + Self.lampColor * lamp.radiance }
            c = c + Self.lampColor * (lamp.radiance * 0.01 * exp(-d / 3))
        }
        return c
    }
}

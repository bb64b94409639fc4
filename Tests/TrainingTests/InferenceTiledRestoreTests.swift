// Tiled restoration: tile placement, blending weights, the identity network, and the one-tile case.
import EXRIO
import Foundation
import Model
import Numerics
import Testing

@testable import Training

/// A model whose last conv is zero: p = 0, so delta = 0 and output = exp(log(x + eps)) - eps, whatever the tiling.
func identityModel(_ arch: ModelConfig) throws -> PatchModel {
    let m = try PatchModel(
        model: arch, residual: ResidualConfig(mode: .fixedCap(cap: 6, alpha: 1), clamp: 8),
        logNorm: LogNorm(), stateSlots: 0, seed: 3)
    let last: String
    switch arch {
    case .plain(let depth, _, _): last = "layers.\(depth - 1)."
    case .unet: last = "out."
    }
    for e in m.store.entries where e.name.hasPrefix(last) { m.store.values(e).update(repeating: 0) }
    return m
}

/// Deterministic positive image (1, 3, h, w) with values spread over [0.01, 1000] (five decades).
func testImage(width w: Int, height h: Int, seed: Int = 0) -> Tensor {
    Tensor(
        shape: [1, 3, h, w],
        storage: (0..<(3 * h * w)).map { i in
            let u = 0.5 + 0.5 * sin(Double(i * 7 + seed) * 0.37 + Double(i % 13) * 1.3)
            return Float(0.01 * pow(1e5, u))
        })
}

struct InferenceTiledRestoreTests {
    @Test func startsAlignTheLastTileToTheEdge() {
        #expect(TileGrid.starts(length: 600, tile: 256, overlap: 16) == [0, 240, 344])
        #expect(TileGrid.starts(length: 256, tile: 256, overlap: 16) == [0])
        #expect(TileGrid.starts(length: 100, tile: 256, overlap: 16) == [0])
        #expect(TileGrid.starts(length: 496, tile: 256, overlap: 16) == [0, 240])
        #expect(TileGrid.starts(length: 10, tile: 4, overlap: 0) == [0, 4, 6])
    }

    /// As few tiles as the tile size needs, each no larger than it takes to cover the axis with that many.
    @Test func balancedSidesCoverTheAxisWithTheFewestTilesAndLeastOverlap() {
        #expect(TileGrid.balancedSide(length: 1024, tile: 256, overlap: 16) == 218)
        #expect(TileGrid.starts(length: 1024, tile: 218, overlap: 16) == [0, 202, 404, 606, 806])
        #expect(TileGrid.balancedSide(length: 600, tile: 256, overlap: 16) == 211)
        #expect(TileGrid.balancedSide(length: 496, tile: 256, overlap: 16) == 256)
        #expect(TileGrid.balancedSide(length: 200, tile: 256, overlap: 16) == 200)
        #expect(TileGrid(width: 1024, height: 600, tile: 256, overlap: 16).tileWidth == 218)
        // A U-Net's 2^levels: strides of 204 (a multiple of 4) instead of 202.
        #expect(TileGrid.balancedSide(length: 1024, tile: 256, overlap: 16, alignment: 4) == 220)
        #expect(TileGrid.starts(length: 1024, tile: 220, overlap: 16) == [0, 204, 408, 612, 804])
        #expect(TileGrid.balancedSide(length: 1024, tile: 218, overlap: 16, alignment: 4) == 218)
        for length in 1...700 {
            for (tile, overlap, alignment) in [(256, 16, 1), (64, 0, 1), (33, 32, 1), (8, 3, 1), (256, 40, 4)] {
                let side = TileGrid.balancedSide(length: length, tile: tile, overlap: overlap, alignment: alignment)
                let fixed = TileGrid.starts(length: length, tile: tile, overlap: overlap)
                let balanced = TileGrid.starts(length: length, tile: side, overlap: overlap)
                #expect(side <= tile && side > overlap || side == length, "\(length), \(tile), \(overlap)")
                #expect(balanced.count == fixed.count, "\(length), \(tile), \(overlap): \(side)")
                #expect(balanced.last! + side == length, "\(length), \(tile), \(overlap)")
                if side < tile && side < length { #expect((side - overlap) % alignment == 0, "\(length), \(tile)") }
                // One pixel less (one alignment step) and that many tiles no longer cover the axis.
                if side < tile && side < length && side > overlap + alignment {
                    #expect(balanced.count * (side - alignment - overlap) + overlap < length, "\(length), \(tile)")
                }
            }
        }
    }

    @Test(arguments: [(37, 8, 2), (40, 8, 0), (33, 8, 5), (30, 7, 6), (9, 8, 3), (5, 8, 2), (1000, 256, 16)])
    func weightsSumToOneAndTilesCoverEveryPixel(_ length: Int, _ tile: Int, _ overlap: Int) {
        let grid = TileGrid(width: length, height: max(1, length / 2), tile: tile, overlap: overlap)
        for (len, size, starts, weights) in [
            (grid.width, grid.tileWidth, grid.xStarts, grid.xWeights),
            (grid.height, grid.tileHeight, grid.yStarts, grid.yWeights)
        ] {
            var sum = [Double](repeating: 0, count: len)
            var covered = [Int](repeating: 0, count: len)
            for (i, a) in starts.enumerated() {
                #expect(a >= 0 && a + size <= len)
                for k in 0..<size {
                    sum[a + k] += weights[i][k]
                    covered[a + k] += 1
                    #expect(weights[i][k] > 0)
                }
            }
            #expect(covered.allSatisfy { $0 >= 1 })
            #expect(sum.allSatisfy { abs($0 - 1) < 1e-12 }, "\(sum)")
        }
        // 2-D: the product weights sum to 1 at every pixel too.
        var total = [Double](repeating: 0, count: grid.width * grid.height)
        for (j, y0) in grid.yStarts.enumerated() {
            for (i, x0) in grid.xStarts.enumerated() {
                for y in 0..<grid.tileHeight {
                    for x in 0..<grid.tileWidth {
                        total[(y0 + y) * grid.width + x0 + x] += grid.yWeights[j][y] * grid.xWeights[i][x]
                    }
                }
            }
        }
        #expect(total.allSatisfy { abs($0 - 1) < 1e-12 })
    }

    @Test func rampsRiseAcrossTheOverlap() {
        // Two tiles of 8 on 14 pixels: overlap 2 at positions 6, 7 -> weights 1/3, 2/3 for the second tile.
        let w = TileGrid.weights(length: 14, size: 8, starts: [0, 6])
        #expect(w[1][0] == 1.0 / 3 && w[1][1] == 2.0 / 3 && w[1][2] == 1)
        #expect(w[0][6] == 2.0 / 3 && w[0][7] == 1.0 / 3 && w[0][5] == 1)
    }

    @Test(arguments: [ModelConfig.plain(depth: 2, width: 4), .unet(width: 4, levels: 2)])
    func theIdentityNetworkRestoresAnyImage(_ arch: ModelConfig) throws {
        let model = try identityModel(arch)
        let image = testImage(width: 45, height: 27)
        // Tile 14 is not a multiple of 4: the U-Net tiles are padded and cropped back.
        for (tile, overlap) in [(16, 4), (14, 5), (64, 8)] {
            let out = try TiledRestore(model: model, tile: tile, overlap: overlap, batchSize: 3).restore(image)
            #expect(out.shape == image.shape)
            var worst = 0.0
            for (o, x) in zip(out.storage, image.storage) {
                worst = max(worst, abs(Double(o) - Double(x)) / (Double(x) + 1e-4))
            }
            #expect(worst <= 1e-6, "tile \(tile) overlap \(overlap): worst relative error \(worst)")
        }
    }

    @Test(arguments: [ModelConfig.plain(depth: 3, width: 5), .unet(width: 4, levels: 2)])
    func anImageNoLargerThanTheTileIsOneForwardPassBitForBit(_ arch: ModelConfig) throws {
        let model = try PatchModel(
            model: arch, residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil),
            logNorm: LogNorm(), stateSlots: 0, seed: 11)
        let image = testImage(width: 24, height: 20, seed: 5)
        let expected = model.forward(image).output
        let out = try TiledRestore(model: model, tile: 32, overlap: 8).restore(image)
        #expect(out.storage.map(\.bitPattern) == expected.storage.map(\.bitPattern))
        let exact = try TiledRestore(model: model, tile: 24, overlap: 0).restore(image)
        #expect(exact.storage.map(\.bitPattern) == expected.storage.map(\.bitPattern))
    }

    /// A hole_mask model's tiles read the mask's own tiles: with tiles away from every overlap (weights 1), each
    /// half of the restored image is its tile's forward pass with its half of the mask.
    @Test func aHoleMaskIsTiledWithTheImage() throws {
        let model = try PatchModel(
            model: .plain(depth: 2, width: 3), inputs: NetworkInputs(planes: [.logNorm, .holeMask]),
            residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil), logNorm: LogNorm(), stateSlots: 0, seed: 2)
        let image = testImage(width: 16, height: 8, seed: 9)
        var rng = SeededRNG(seed: 4)
        let regions = Tensor(shape: [1, 1, 8, 16], storage: (0..<128).map { _ in rng.uniform() < 0.3 ? 1 : 0 })
        let restorer = try TiledRestore(model: model, tile: 8, overlap: 0, batchSize: 2, statistics: .tile)
        let out = restorer.restore(image, regions: regions)
        for x0 in [0, 8] {
            let expected = model.forward(
                restorer.crop(image, x: x0, y: 0, width: 8, height: 8),
                regions: restorer.crop(regions, x: x0, y: 0, width: 8, height: 8)
            ).output
            for c in 0..<3 {
                for y in 0..<8 {
                    for x in 0..<8 { #expect(out[0, c, y, x0 + x] == expected[0, c, y, x]) }
                }
            }
        }
        // The mask matters: without it (no hole anywhere) the output differs.
        #expect(restorer.restore(image).storage != out.storage)
        // One tile for the whole image: the forward pass with the whole mask, bit for bit.
        let whole = try TiledRestore(model: model, tile: 16, overlap: 0).restore(image, regions: regions)
        #expect(whole.storage == model.forward(image, regions: regions).output.storage)
    }

    @Test func aTileAwayFromEveryOverlapIsThatTilesForwardPass() throws {
        // Tile 8, overlap 0, 16 x 8 image: two tiles side by side, weights 1: each half is its own patch.
        let model = try PatchModel(
            model: .plain(depth: 2, width: 3), residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil),
            logNorm: LogNorm(), stateSlots: 0, seed: 2)
        let image = testImage(width: 16, height: 8, seed: 9)
        let out = try TiledRestore(model: model, tile: 8, overlap: 0, batchSize: 1, statistics: .tile).restore(image)
        let right = try TiledRestore(model: model, tile: 8, overlap: 0).crop(image, x: 8, y: 0, width: 8, height: 8)
        let expected = model.forward(right).output
        for c in 0..<3 {
            for y in 0..<8 {
                for x in 0..<8 { #expect(out[0, c, y, 8 + x] == expected[0, c, y, x]) }
            }
        }
    }

    @Test func overlappingTilesAreBlendedWithTheRampWeights() throws {
        // Tile 8, overlap 2, width 14: tiles at x = 0 and 6; columns 6 and 7 mix left (2/3, 1/3) and right.
        let model = try PatchModel(
            model: .plain(depth: 2, width: 3), residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil),
            logNorm: LogNorm(), stateSlots: 0, seed: 8)
        let image = testImage(width: 14, height: 8, seed: 4)
        let restorer = try TiledRestore(model: model, tile: 8, overlap: 2, batchSize: 1, statistics: .tile, margin: 0)
        let out = restorer.restore(image)
        let left = model.forward(restorer.crop(image, x: 0, y: 0, width: 8, height: 8)).output
        let right = model.forward(restorer.crop(image, x: 6, y: 0, width: 8, height: 8)).output
        for c in 0..<3 {
            for y in 0..<8 {
                for x in 0..<14 {
                    let l = x < 8 ? Double(left[0, c, y, x]) : 0
                    let r = x >= 6 ? Double(right[0, c, y, x - 6]) : 0
                    let wr = x < 6 ? 0 : x == 6 ? 1.0 / 3 : x == 7 ? 2.0 / 3 : 1
                    let expected = (1 - wr) * l + wr * r
                    #expect(abs(Double(out[0, c, y, x]) - expected) <= 1e-6 * abs(expected), "c \(c) y \(y) x \(x)")
                }
            }
        }
        // Not vacuous: the two tiles disagree in the overlap (each has its own LogNorm and borders).
        #expect((0..<8).contains { y in abs(left[0, 0, y, 6] - right[0, 0, y, 0]) > 1e-3 * abs(left[0, 0, y, 6]) })
    }

    @Test func badTilingIsAnError() throws {
        let model = try identityModel(.plain(depth: 1, width: 1))
        #expect(throws: InferenceError("overlap must be in 0..<tile (16), got 16")) {
            try TiledRestore(model: model, tile: 16, overlap: 16)
        }
        #expect(throws: InferenceError.self) { try TiledRestore(model: model, tile: 0, overlap: 0) }
    }
}

/// Seams: a real photograph (Blender's CC0 studio HDRI, 1024 x 512 DWAB, cropped to 360 x 250 around its
/// highlights) restored in tiles of 96 against one forward pass of the whole crop.
struct SeamlessTilingTests {
    static func realImage() throws -> Tensor {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/blender-studio-dwab.exr").path
        let full = try ImageReader.read(path: path).image
        let (x0, y0, w, h) = (500, 150, 360, 250)
        var px = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    px[(c * h + y) * w + x] = full.pixels[c * full.planeCount + (y0 + y) * full.width + x0 + x]
                }
            }
        }
        return Tensor(shape: [1, 3, h, w], storage: px)
    }

    /// Largest |log(a + eps) - log(b + eps)| over every value.
    static func maxLogDifference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.storage, b.storage).map { abs(log(Double($0) + 1e-4) - log(Double($1) + 1e-4)) }.max() ?? 0
    }

    static func model(_ arch: ModelConfig) throws -> PatchModel {
        // PyTorch's default init in every layer (the output layer too): a network that does something everywhere.
        let m = try PatchModel(
            model: arch, residual: ResidualConfig(mode: .learnable(initial: 6), clamp: 8), logNorm: LogNorm(),
            stateSlots: 0, seed: 3)
        return m
    }

    /// With the whole image's LogNorm statistics and margins of the receptive radius, the tiles of a plain
    /// network reproduce the whole-image pass to float rounding (measured: below 1e-5 in log); with each tile's
    /// own statistics the same tiling is off by far more at the seams.
    @Test func imageStatisticsLeaveNoSeamsOnARealImage() throws {
        let image = try Self.realImage()
        let model = try Self.model(.plain(depth: 4, width: 8))
        let whole = model.forward(image).output
        let restorer = try TiledRestore(model: model, tile: 96)
        #expect(restorer.overlap == 16 && restorer.margin == 4 && restorer.statistics == .image)
        let tiled = restorer.restore(image)
        let seamless = Self.maxLogDifference(tiled, whole)
        #expect(seamless <= 1e-5, "image statistics: \(seamless)")
        let perTile = Self.maxLogDifference(
            try TiledRestore(model: model, tile: 96, statistics: .tile).restore(image), whole)
        #expect(perTile >= 1e-2, "tile statistics: \(perTile)")
        // Without the margin the tiles' zero padding shows at their edges even with the image's statistics.
        let noMargin = Self.maxLogDifference(try TiledRestore(model: model, tile: 96, margin: 0).restore(image), whole)
        #expect(noMargin >= 1e-4, "no margin: \(noMargin)")
    }

    @Test func theDefaultOverlapCoversTheReceptiveField() throws {
        #expect(try Self.model(.plain(depth: 4, width: 8)).network.receptiveRadius == 4)
        let unet = try Self.model(.unet(width: 4, levels: 2))
        #expect(unet.network.receptiveRadius == 20)
        let r = try TiledRestore(model: unet, tile: 128)
        #expect(r.overlap == 40 && r.margin == 20)
        #expect(throws: InferenceError.self) { try TiledRestore(model: unet, tile: 128, overlap: 16, margin: 9) }
    }

    /// Margin m: zero weight within m of an interior edge, the ramp over the rest of the overlap, sums of 1.
    @Test func marginWeightsAreZeroNextToInteriorEdges() {
        let g = TileGrid(width: 14, height: 8, tile: 8, overlap: 4, margin: 1)
        #expect(g.xStarts == [0, 4, 6])
        let w = TileGrid.weights(length: 12, size: 8, starts: [0, 4], margin: 1)
        // Overlap [4, 8): tile 0 counts fully at 4, then 2/3, 1/3, 0; tile 1 the rest.
        #expect(w[0][4...7].map { ($0 * 3).rounded() } == [3, 2, 1, 0] && w[1][0] == 0 && w[1][3] == 1)
        for x in 0..<12 {
            let sum = (x < 8 ? w[0][x] : 0) + (x >= 4 ? w[1][x - 4] : 0)
            #expect(abs(sum - 1) < 1e-12, "x \(x)")
        }
    }
}

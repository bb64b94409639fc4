// Procedural scenes: real HDR range (>= 20 stops, a sun thousands of times the ground), finite, deterministic.
import EXRIO
import Foundation
import Numerics
import Testing

@testable import Data

struct SynthSceneTests {
    @Test(arguments: [0, 1, 2] as [UInt64])
    func sceneSpansAtLeast20StopsAndIsFiniteNonNegative(seed: UInt64) throws {
        let img = ProceduralScene.render(width: 512, height: 256, seed: seed)
        #expect(img.width == 512 && img.height == 256)
        #expect(img.pixels.allSatisfy { $0.isFinite && $0 >= 0 })
        let stats = try #require(LuminanceStats(img))
        #expect(stats.min > 0)  // every pixel receives some light: the log domain sees no zeros
        #expect(try #require(stats.dynamicRangeStops) >= 20, "\(stats)")
        // The sun is >= 2^12 times the ground (bottom quarter: ground, shadows, wall bases).
        let lum = luminance(img)
        var ground = Array(lum[(192 * 512)...])
        ground.sort()
        #expect(
            stats.max >= 4096 * ground[ground.count / 2], "max \(stats.max), ground median \(ground[ground.count / 2])")
    }

    @Test func sameSeedSameSceneOtherSeedOrIndexDiffers() {
        let a = ProceduralScene.render(width: 64, height: 48, seed: 5, index: 2)
        #expect(ProceduralScene.render(width: 64, height: 48, seed: 5, index: 2) == a)
        #expect(ProceduralScene.render(width: 64, height: 48, seed: 6, index: 2) != a)
        #expect(ProceduralScene.render(width: 64, height: 48, seed: 5, index: 3) != a)
    }

    @Test func lampsAndWindowsAreEmissive() {
        // Lamp heads (>= 300) shine far above anything lit by the sun (ground and walls stay below ~3).
        let layout: SceneLayout = {
            var rng = SynthStreams.scene(seed: 4, index: 0)
            return SceneLayout(width: 512, height: 256, rng: &rng)
        }()
        let img = ProceduralScene.render(width: 512, height: 256, seed: 4)
        #expect(layout.lamps.count >= 2)
        for lamp in layout.lamps where lamp.head >= 0 {
            #expect(img[1, lamp.head, lamp.x] >= Float(0.7 * lamp.radiance))
        }
        #expect(layout.walls.count >= 2)
    }
}

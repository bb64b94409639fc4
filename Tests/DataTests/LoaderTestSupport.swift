// Loader test helpers: scratch data roots, images whose pixel values say where they came from, and the
// naive step-by-step augmentation the fast crop is checked against.
/// Collects warning lines from any thread.
import EXRIO
import Foundation
import Numerics
import Synchronization

@testable import Data

final class LineSink: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var closure: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
}

enum LoaderFixture {
    /// Pixel value of file `file`, role (0 input, 1 target), channel, row, column: distinct and exact in
    /// float32 for file < 10, y < 100, x < 100 (at most 799999 < 2^24).
    static func code(file: Int, role: Int, c: Int, y: Int, x: Int) -> Float {
        Float((((file * 2 + role) * 4 + c) * 100 + y) * 100 + x)
    }

    /// Inverse of `code`.
    static func decode(_ v: Float) -> (file: Int, role: Int, c: Int, y: Int, x: Int) {
        let n = Int(v)
        let fr = n / 40000
        return (fr / 2, fr % 2, (n / 10000) % 4, (n / 100) % 100, n % 100)
    }

    /// (3, height, width) with every value `code(file, role, c, y, x)`.
    static func image(file: Int, role: Int, width: Int, height: Int) -> HDRImage {
        var img = HDRImage(width: width, height: height)
        for c in 0..<3 {
            for y in 0..<height {
                for x in 0..<width { img[c, y, x] = code(file: file, role: role, c: c, y: y, x: x) }
            }
        }
        return img
    }

    static func write(_ img: HDRImage, _ path: String) throws {
        try EXRWriter.write(img, to: path, options: EXRWriteOptions(pixelType: .float, compression: .zip))
    }

    /// Makes `root/input` and `root/target` and writes pair i of `pairs` as file index i (float, ZIP).
    @discardableResult
    static func makeRoot(_ root: String, pairs: [(name: String, width: Int, height: Int)]) throws -> String {
        for dir in ["input", "target"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        for (i, p) in pairs.enumerated() {
            try write(image(file: i, role: 0, width: p.width, height: p.height), root + "/input/" + p.name)
            try write(image(file: i, role: 1, width: p.width, height: p.height), root + "/target/" + p.name)
        }
        return root
    }

    /// `count` pairs named p0.exr, p1.exr, ... of the given size.
    static func makeRoot(_ root: String, count: Int, width: Int = 40, height: Int = 30) throws -> String {
        try makeRoot(root, pairs: (0..<count).map { ("p\($0).exr", width, height) })
    }
}

/// The augmentation done the slow, obvious way: crop, then each step on its own array.
enum NaiveAugment {
    /// (3, P, P) patch of `img` at `origin`, augmented as `origin` records.
    static func patch(_ img: HDRImage, origin: PatchOrigin, size p: Int) -> [Float] {
        var a = [Float](repeating: 0, count: 3 * p * p)
        for c in 0..<3 {
            for y in 0..<p {
                for x in 0..<p { a[(c * p + y) * p + x] = img[c, origin.y + y, origin.x + x] }
            }
        }
        if origin.flipH { a = remap(a, p) { y, x in (y, p - 1 - x) } }
        if origin.flipV { a = remap(a, p) { y, x in (p - 1 - y, x) } }
        for _ in 0..<origin.rot90 { a = remap(a, p) { y, x in (x, p - 1 - y) } }  // counter-clockwise
        return a
    }

    /// out[c][y][x] = a[c][from(y, x)].
    static func remap(_ a: [Float], _ p: Int, _ from: (Int, Int) -> (Int, Int)) -> [Float] {
        var out = a
        for c in 0..<3 {
            for y in 0..<p {
                for x in 0..<p {
                    let (sy, sx) = from(y, x)
                    out[(c * p + y) * p + x] = a[(c * p + sy) * p + sx]
                }
            }
        }
        return out
    }
}

extension Batch {
    /// Sample n of `tensor` as a flat (3, P, P) array.
    static func sample(_ tensor: Tensor, _ n: Int) -> [Float] {
        let per = tensor.sampleCount
        return Array(tensor.storage[(n * per)..<((n + 1) * per)])
    }
}

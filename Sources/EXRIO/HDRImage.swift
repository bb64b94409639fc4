// The in-memory HDR image every reader returns and every writer takes.

/// Linear HDR RGB in float32, planar: `pixels` holds (3, height, width), plane R then G then B,
/// each plane row-major. This is one sample of the NCHW tensors used downstream.
public struct HDRImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// (3, height, width), contiguous.
    public var pixels: [Float]

    /// Number of pixels in one plane.
    public var planeCount: Int { width * height }

    /// - Parameter pixels: (3, height, width); its count must be 3 * width * height.
    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == 3 * width * height,
            "HDRImage: \(pixels.count) values for 3 x \(height) x \(width)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: fill, count: 3 * width * height))
    }

    public subscript(channel: Int, y: Int, x: Int) -> Float {
        get { pixels[(channel * height + y) * width + x] }
        set { pixels[(channel * height + y) * width + x] = newValue }
    }
}

/// What a reader found in the pixel values and did about it.
public struct PixelCounts: Sendable, Equatable, Codable {
    /// Pixels with at least one finite negative channel; those channels were set to 0.
    public var negativeClamped: Int = 0
    /// Pixels with at least one NaN channel (left as they are).
    public var nan: Int = 0
    /// Pixels with at least one infinite channel and no NaN (left as they are).
    public var inf: Int = 0

    public init(negativeClamped: Int = 0, nan: Int = 0, inf: Int = 0) {
        self.negativeClamped = negativeClamped
        self.nan = nan
        self.inf = inf
    }

    enum CodingKeys: String, CodingKey {
        case negativeClamped = "negative_clamped"
        case nan, inf
    }
}

extension HDRImage {
    /// Sets finite negative values to 0 and counts, per pixel, negatives, NaNs and infinities.
    /// Non-finite values are kept: the dataset layer decides whether to skip such images.
    public mutating func clampNegativesAndCount() -> PixelCounts {
        var counts = PixelCounts()
        let n = planeCount
        pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                var negative = false
                var nan = false
                var inf = false
                for c in 0..<3 {
                    let v = p[c * n + i]
                    if v.isNaN {
                        nan = true
                    } else if v.isInfinite {
                        inf = true
                    } else if v < 0 {
                        negative = true
                        p[c * n + i] = 0
                    }
                }
                if negative { counts.negativeClamped += 1 }
                if nan { counts.nan += 1 } else if inf { counts.inf += 1 }
            }
        }
        return counts
    }
}

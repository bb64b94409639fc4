// Header facts of a read image, as `inspect` reports them (JSON keys in snake_case).

public enum ImageFormat: String, Sendable, Codable {
    case exr
    case radiance
}

/// An inclusive pixel rectangle, as OpenEXR's data and display windows.
public struct PixelBox: Sendable, Equatable, Codable, CustomStringConvertible {
    public var minX: Int, minY: Int, maxX: Int, maxY: Int
    public init(minX: Int, minY: Int, maxX: Int, maxY: Int) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }
    public var width: Int { maxX - minX + 1 }
    public var height: Int { maxY - minY + 1 }
    public var description: String { "(\(minX), \(minY)) - (\(maxX), \(maxY))" }
    enum CodingKeys: String, CodingKey {
        case minX = "min_x"
        case minY = "min_y"
        case maxX = "max_x"
        case maxY = "max_y"
    }
}

public enum PixelType: String, Sendable, Codable {
    case uint, half, float
    /// RGBE shared-exponent bytes of Radiance files.
    case rgbe
}

public struct ChannelInfo: Sendable, Equatable, Codable {
    public var name: String
    public var type: PixelType
    public var xSampling: Int
    public var ySampling: Int
    public init(name: String, type: PixelType, xSampling: Int = 1, ySampling: Int = 1) {
        self.name = name
        self.type = type
        self.xSampling = xSampling
        self.ySampling = ySampling
    }
    enum CodingKeys: String, CodingKey {
        case name, type
        case xSampling = "x_sampling"
        case ySampling = "y_sampling"
    }
}

public enum TileLevelMode: String, Sendable, Codable {
    case one, mipmap, ripmap
}

public struct TileInfo: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int
    public var levelMode: TileLevelMode
    public var levelsX: Int
    public var levelsY: Int
    enum CodingKeys: String, CodingKey {
        case width, height
        case levelMode = "level_mode"
        case levelsX = "levels_x"
        case levelsY = "levels_y"
    }
}

public struct PartSummary: Sendable, Equatable, Codable {
    public var index: Int
    public var name: String?
}

public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var dataWindow: PixelBox
    public var displayWindow: PixelBox
    /// Every channel of the selected part, in file order.
    public var channels: [ChannelInfo]
    /// The channels read as R, G, B (three names; three times the same name for luminance-only files).
    public var selectedChannels: [String]
    /// OpenEXR compression name (none, rle, zips, zip, piz, pxr24, b44, b44a, dwaa, dwab);
    /// for Radiance files `rle` or `none`.
    public var compression: String
    /// `scanline` or `tiled`.
    public var storage: String
    public var tile: TileInfo?
    public var parts: [PartSummary]
    public var part: Int
    /// Radiance EXPOSURE product from the header (1 when absent). Pixel values are returned as stored.
    public var exposure: Double?

    public init(
        format: ImageFormat, width: Int, height: Int, dataWindow: PixelBox, displayWindow: PixelBox,
        channels: [ChannelInfo], selectedChannels: [String], compression: String, storage: String,
        tile: TileInfo? = nil, parts: [PartSummary], part: Int, exposure: Double? = nil
    ) {
        self.format = format
        self.width = width
        self.height = height
        self.dataWindow = dataWindow
        self.displayWindow = displayWindow
        self.channels = channels
        self.selectedChannels = selectedChannels
        self.compression = compression
        self.storage = storage
        self.tile = tile
        self.parts = parts
        self.part = part
        self.exposure = exposure
    }

    enum CodingKeys: String, CodingKey {
        case format, width, height
        case dataWindow = "data_window"
        case displayWindow = "display_window"
        case channels
        case
            selectedChannels = "selected_channels"
        case compression, storage, tile, parts, part, exposure
    }
}

/// A decoded image with its header facts and what was found in its pixels.
public struct LoadedImage: Sendable {
    public var image: HDRImage
    public var info: ImageInfo
    public var counts: PixelCounts
}

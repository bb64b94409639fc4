// placeholder replaced by the Radiance codec
enum Radiance {
    static func looksLikeRadiance(_ bytes: UnsafeRawBufferPointer) -> Bool { false }
    static func decode(_ bytes: UnsafeRawBufferPointer, path: String, maxPixels: Int) throws(ImageIOError) -> (HDRImage, ImageInfo) {
        throw ImageIOError(path: path, reason: "todo")
    }
}

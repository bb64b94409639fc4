// A data root of paired input/target images: pairing, size and pixel checks on open, decoded access later.
import EXRIO
import Glibc
import Numerics

/// `root/input/NAME` (degraded) and `root/target/NAME` (clean) for every NAME in both directories, and when
/// `root/mask/` exists, `root/mask/NAME` for every pair: a region of the pair (1 inside, 0 outside, the first
/// channel; e.g. the holes a frame warp opened) that validation and `evaluate` score on its own, as they score
/// the clipped pixels of sets without masks.
///
/// Opening reads every pair once: to learn its size and to count NaN/Inf pixels. A pair with such pixels is
/// skipped with a warning (`warning: <path>: N NaN and M Inf pixels; pair skipped`) or, with `strict`, is an
/// error. Unpaired files, size mismatches and images smaller than the patch are always errors, as is a root
/// with no usable pair. Immutable after `init`, so any number of threads may call `images(_:)` at once.
package final class PairedDataset: Sendable {
    /// One usable pair.
    package struct Pair: Sendable, Equatable {
        /// File name shared by input and target (what `PatchOrigin.file` holds).
        package let name: String
        package let inputPath: String
        package let targetPath: String
        /// `root/mask/NAME` when the set has masks.
        package let maskPath: String?
        package let width: Int
        package let height: Int
    }

    package let root: String
    /// Usable pairs, sorted by name; sample and validation indices refer to this order.
    package let pairs: [Pair]
    /// Names of pairs skipped for NaN/Inf pixels, sorted.
    package let skipped: [String]
    /// Every warning line emitted while opening, in order (also passed to `warn` as it happened).
    package let warnings: [String]
    /// Side of the square patches the set was checked against (every pair is at least this big).
    package let patchSize: Int
    /// How files are read when the set is opened; re-reads during training use the same options decoded on
    /// the calling thread (threads 0).
    package let readOptions: ReadOptions
    /// Decoded (input, target) per pair when opened with `cache`; nil re-reads files on demand.
    private let cache: [(input: HDRImage, target: HDRImage)]?
    /// Decoded masks per pair when opened with `cache` and the set has masks.
    private let maskCache: [HDRImage]?
    /// Whether every pair has a region mask (`root/mask/`).
    package var hasMasks: Bool { pairs.first?.maskPath != nil }

    /// Whether the data root `root` has a mask/ directory (what makes a set's pairs carry region masks), without
    /// opening the set.
    package static func hasMaskDirectory(root: String) -> Bool {
        ImageDirectory.isDirectory(ImageDirectory.join(root, "mask"))
    }
    /// Set when the pairs are made on the fly from clean sources (`init(sources:recipe:...)`): every "pair" is then
    /// one clean source image (input and target paths alike), and each training patch is degraded as it is cut.
    package let online: OnlineDegradation?
    /// Per source of an online set whose recipe exposes by the whole image (`over: image`): its statistics,
    /// made once as the sources are read; nil otherwise.
    package let sourceStatistics: [SourceStatistics]?

    package var isCached: Bool { cache != nil }

    /// Opens `root` with the patch size, `strict` and `cache` of `config` (validated first).
    /// - Parameter warn: receives each warning line as it is found (they are also kept in `warnings`).
    package init(
        root: String, config: LoaderConfig, readOptions: ReadOptions = ReadOptions(),
        warn: (@Sendable (String) -> Void)? = nil
    ) throws {
        try config.validate()
        let inputDir = ImageDirectory.join(root, "input")
        let targetDir = ImageDirectory.join(root, "target")
        let names = try Self.pairedNames(inputDir: inputDir, targetDir: targetDir)
        let maskDir = ImageDirectory.join(root, "mask")
        let masks = Self.hasMaskDirectory(root: root)
        var maskCache: [HDRImage] = []

        var pairs: [Pair] = []
        var skipped: [String] = []
        var warnings: [String] = []
        var cache: [(input: HDRImage, target: HDRImage)] = []
        for name in names {
            let inPath = ImageDirectory.join(inputDir, name)
            let tgPath = ImageDirectory.join(targetDir, name)
            let input = try ImageReader.read(path: inPath, options: readOptions)
            let target = try ImageReader.read(path: tgPath, options: readOptions)
            let (w, h) = (input.image.width, input.image.height)
            if w != target.image.width || h != target.image.height {
                throw LoaderError(
                    "size mismatch: \(inPath) is \(w)x\(h) but \(tgPath) is \(target.image.width)x\(target.image.height)"
                )
            }
            if w < config.patchSize || h < config.patchSize {
                throw LoaderError("\(inPath): \(w)x\(h) is smaller than patch_size \(config.patchSize)")
            }
            var bad = false
            for (path, counts) in [(inPath, input.counts), (tgPath, target.counts)] where counts.nan + counts.inf > 0 {
                let what = "\(counts.nan) NaN and \(counts.inf) Inf pixels"
                if config.strict { throw LoaderError("\(path): \(what); strict mode refuses the pair") }
                let line = "warning: \(path): \(what); pair skipped"
                warnings.append(line)
                warn?(line)
                bad = true
            }
            if bad {
                skipped.append(name)
                continue
            }
            var maskPath: String?
            if masks {
                let path = ImageDirectory.join(maskDir, name)
                guard access(path, F_OK) == 0 else {
                    throw LoaderError("missing mask: \(path) (\(maskDir) must hold a mask for every pair)")
                }
                let mask = try Self.readMask(path, options: readOptions, width: w, height: h)
                if config.cache { maskCache.append(mask) }
                maskPath = path
            }
            pairs.append(
                Pair(name: name, inputPath: inPath, targetPath: tgPath, maskPath: maskPath, width: w, height: h))
            if config.cache { cache.append((input.image, target.image)) }
        }
        if pairs.isEmpty {
            let why =
                names.isEmpty
                ? "no .exr or .hdr files in \(inputDir) and \(targetDir)"
                : "all \(names.count) pairs skipped for NaN/Inf pixels"
            throw LoaderError("data root \(root): no usable pairs (\(why))")
        }
        self.root = root
        self.pairs = pairs
        self.skipped = skipped
        self.warnings = warnings
        self.patchSize = config.patchSize
        self.readOptions = readOptions
        self.cache = config.cache ? cache : nil
        self.maskCache = config.cache && masks ? maskCache : nil
        self.online = nil
        self.sourceStatistics = nil
    }

    /// Clean source images (every .exr and .hdr in `sources`, decoded once and kept) from which each training
    /// patch is made as it is cut: the crop, then `recipe` with its own random streams for that sample
    /// (`OnlineDegradation`). Sources with NaN/Inf pixels are skipped with a warning (an error with `strict`);
    /// one smaller than the patch is an error.
    package init(
        sources: String, recipe: DegradationRecipe, recipeName: String, config: LoaderConfig,
        readOptions: ReadOptions = ReadOptions(), warn: (@Sendable (String) -> Void)? = nil
    ) throws {
        try config.validate()
        let names = try ImageDirectory.list(sources)
        var pairs: [Pair] = []
        var skipped: [String] = []
        var warnings: [String] = []
        var cache: [(input: HDRImage, target: HDRImage)] = []
        for name in names {
            let path = ImageDirectory.join(sources, name)
            let loaded = try ImageReader.read(path: path, options: readOptions)
            let (w, h) = (loaded.image.width, loaded.image.height)
            if w < config.patchSize || h < config.patchSize {
                throw LoaderError("\(path): \(w)x\(h) is smaller than patch_size \(config.patchSize)")
            }
            let counts = loaded.counts
            if counts.nan + counts.inf > 0 {
                let what = "\(counts.nan) NaN and \(counts.inf) Inf pixels"
                if config.strict { throw LoaderError("\(path): \(what); strict mode refuses the source") }
                let line = "warning: \(path): \(what); source skipped"
                warnings.append(line)
                warn?(line)
                skipped.append(name)
                continue
            }
            pairs.append(Pair(name: name, inputPath: path, targetPath: path, maskPath: nil, width: w, height: h))
            cache.append((loaded.image, loaded.image))
        }
        if pairs.isEmpty {
            let why = names.isEmpty ? "no .exr or .hdr files" : "all \(names.count) skipped for NaN/Inf pixels"
            throw LoaderError("sources \(sources): no usable image (\(why))")
        }
        self.root = sources
        self.pairs = pairs
        self.skipped = skipped
        self.warnings = warnings
        self.patchSize = config.patchSize
        self.readOptions = readOptions
        self.cache = cache
        self.maskCache = nil
        self.online = OnlineDegradation(recipe: recipe, recipeName: recipeName, seed: config.seed)
        self.sourceStatistics = recipe.needsSourceStatistics ? cache.map { SourceStatistics($0.target) } : nil
    }

    /// Names present in both directories; anything in only one of them is an error naming the file and the
    /// counterpart it lacks (the first in sorted order; the count says how many more).
    static func pairedNames(inputDir: String, targetDir: String) throws -> [String] {
        let inputs = try ImageDirectory.list(inputDir)
        let targets = try ImageDirectory.list(targetDir)
        let inSet = Set(inputs)
        let tgSet = Set(targets)
        var unpaired: [(have: String, missing: String)] = []
        for n in inputs where !tgSet.contains(n) {
            unpaired.append((ImageDirectory.join(inputDir, n), ImageDirectory.join(targetDir, n)))
        }
        for n in targets where !inSet.contains(n) {
            unpaired.append((ImageDirectory.join(targetDir, n), ImageDirectory.join(inputDir, n)))
        }
        if let first = unpaired.min(by: { $0.have < $1.have }) {
            let more = unpaired.count > 1 ? " (\(unpaired.count) unpaired files in all)" : ""
            throw LoaderError("unpaired file: \(first.have) has no counterpart \(first.missing)\(more)")
        }
        return inputs
    }

    /// Decoded input and target of pair `index`, each (3, H, W): from the cache, or read again. A re-read
    /// file that changed size or gained NaN/Inf pixels since `init` is an error, never used silently.
    package func images(_ index: Int) throws -> (input: HDRImage, target: HDRImage) {
        guard pairs.indices.contains(index) else {
            throw LoaderError("pair index \(index) out of range 0..<\(pairs.count)")
        }
        if let cache { return cache[index] }
        let p = pairs[index]
        return (try reread(p.inputPath, p), try reread(p.targetPath, p))
    }

    /// The region mask of pair `index` (3, H, W; every channel the file's first), nil for a set without masks.
    package func mask(_ index: Int) throws -> HDRImage? {
        guard pairs.indices.contains(index) else {
            throw LoaderError("pair index \(index) out of range 0..<\(pairs.count)")
        }
        guard let path = pairs[index].maskPath else { return nil }
        if let maskCache { return maskCache[index] }
        var options = readOptions
        options.threads = 0
        return try Self.readMask(path, options: options, width: pairs[index].width, height: pairs[index].height)
    }

    /// The region mask of pair `index` as a (1, 1, H, W) tensor (what `TiledRestore.restore` takes), nil without masks.
    package func regions(_ index: Int) throws -> Tensor? {
        try mask(index).map { m in
            Tensor(shape: [1, 1, m.height, m.width], storage: Array(m.pixels[0..<(m.height * m.width)]))
        }
    }

    /// A mask file: the pair's size, finite values in [0, 1], its first channel copied to all three.
    package static func readMask(
        _ path: String, options: ReadOptions = ReadOptions(), width: Int, height: Int
    ) throws -> HDRImage {
        let loaded = try ImageReader.read(path: path, options: options)
        var image = loaded.image
        if image.width != width || image.height != height {
            throw LoaderError("\(path): mask is \(image.width)x\(image.height), its image \(width)x\(height)")
        }
        let plane = width * height
        for i in 0..<plane {
            let v = image.pixels[i]
            guard v >= 0 && v <= 1 else {
                throw LoaderError("\(path): mask value \(v) at pixel (\(i % width), \(i / width)) is not in [0, 1]")
            }
        }
        for c in 1..<3 { image.pixels.replaceSubrange((c * plane)..<((c + 1) * plane), with: image.pixels[0..<plane]) }
        return image
    }

    private func reread(_ path: String, _ pair: Pair) throws -> HDRImage {
        // On the caller's thread: the loader's workers are the parallelism, and a decoding thread started per
        // file (readOptions.threads) cost more than it saved on training-sized files (measured: 1392 -> 3165
        // patches/s on one worker).
        var options = readOptions
        options.threads = 0
        let loaded = try ImageReader.read(path: path, options: options)
        let (w, h) = (loaded.image.width, loaded.image.height)
        if w != pair.width || h != pair.height {
            throw LoaderError("\(path): now \(w)x\(h), was \(pair.width)x\(pair.height) when the dataset was opened")
        }
        if loaded.counts.nan + loaded.counts.inf > 0 {
            throw LoaderError(
                "\(path): \(loaded.counts.nan) NaN and \(loaded.counts.inf) Inf pixels appeared since the dataset was opened"
            )
        }
        return loaded.image
    }
}

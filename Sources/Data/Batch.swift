// A training or validation batch as the loader hands it to the trainer.
import Numerics

/// Where one patch of a batch came from, so incidents can name it.
public struct PatchOrigin: Sendable, Equatable, Codable {
    /// The pair's file name (the same under input/ and target/).
    public var file: String
    /// Top-left corner of the crop in the stored image, before augmentation.
    public var x: Int
    public var y: Int
    /// Augmentation applied identically to input and target: flips, then `rot90` quarter turns.
    public var flipH: Bool
    public var flipV: Bool
    public var rot90: Int

    public init(file: String, x: Int, y: Int, flipH: Bool = false, flipV: Bool = false, rot90: Int = 0) {
        self.file = file
        self.x = x
        self.y = y
        self.flipH = flipH
        self.flipV = flipV
        self.rot90 = rot90
    }

    enum CodingKeys: String, CodingKey {
        case file, x, y
        case flipH = "flip_h"
        case flipV = "flip_v"
        case rot90
    }
}

/// N paired patches: linear input (degraded) and target (clean), each (N, 3, P, P).
public struct Batch: Sendable {
    public var input: Tensor
    public var target: Tensor
    public var origins: [PatchOrigin]
    public var epoch: Int
    /// Position of the batch within its epoch.
    public var index: Int
    /// The origins of the whole batch, every data-parallel rank's share (`PrefetchLoader(share:)` cuts only this
    /// rank's patches into `input`, `target` and `origins`); the same as `origins` without a share.
    public var batchOrigins: [PatchOrigin]

    public init(
        input: Tensor, target: Tensor, origins: [PatchOrigin], epoch: Int, index: Int,
        batchOrigins: [PatchOrigin]? = nil
    ) {
        self.input = input
        self.target = target
        self.origins = origins
        self.epoch = epoch
        self.index = index
        self.batchOrigins = batchOrigins ?? origins
    }
}

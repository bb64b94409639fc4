// A training or validation batch as the loader hands it to the trainer.
import Numerics

/// Where one patch of a batch came from, so incidents can name it.
package struct PatchOrigin: Sendable, Equatable, Codable {
    /// The pair's file name (the same under input/ and target/).
    package var file: String
    /// Top-left corner of the crop in the stored image, before augmentation.
    package var x: Int
    package var y: Int
    /// Augmentation applied identically to input and target: flips, then `rot90` quarter turns.
    package var flipH: Bool
    package var flipV: Bool
    package var rot90: Int

    package init(file: String, x: Int, y: Int, flipH: Bool = false, flipV: Bool = false, rot90: Int = 0) {
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
package struct Batch: Sendable {
    package var input: Tensor
    package var target: Tensor
    package var origins: [PatchOrigin]
    package var epoch: Int
    /// Position of the batch within its epoch.
    package var index: Int
    /// The origins of the whole batch, every data-parallel rank's share (`PrefetchLoader(share:)` cuts only this
    /// rank's patches into `input`, `target` and `origins`); the same as `origins` without a share.
    package var batchOrigins: [PatchOrigin]
    /// The region masks of the patches (N, 1, P, P; 1 inside), cut and augmented like the input, when the data
    /// set has them (`PairedDataset.hasMasks`); nil otherwise.
    package var regions: Tensor?

    package init(
        input: Tensor, target: Tensor, origins: [PatchOrigin], epoch: Int, index: Int,
        batchOrigins: [PatchOrigin]? = nil, regions: Tensor? = nil
    ) {
        self.input = input
        self.target = target
        self.regions = regions
        self.origins = origins
        self.epoch = epoch
        self.index = index
        self.batchOrigins = batchOrigins ?? origins
    }
}

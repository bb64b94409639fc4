// The direct path of Conv2D for 3x3, stride 1, padding 1 (every convolution of the plain network and most of
// the U-Net): vectorised kernels on a padded-width grid (CKernels/hp_kernels.h), no im2col, no col2im, split
// over `Parallel.threads` (or the layer's own `threads`) by image, or (forward) by output rows when the batch is
// smaller than the thread count; parallel sections are `ParallelJob` values.
import CKernels

/// Which algorithm a `Conv2D` uses.
package enum ConvAlgorithm: Sendable {
    /// `direct` where the geometry allows (3x3, stride 1, padding 1), else `im2col`.
    case automatic
    /// im2col + sgemm per image (any geometry).
    case im2col
    /// The direct kernels; only for 3x3, stride 1, padding 1 (other geometries fall back to im2col).
    case direct
}

/// Instruction-set levels of the direct kernels.
package enum SIMDLevel: Int32, Sendable, CaseIterable, Comparable {
    case generic = 0
    case avx2 = 1
    case avx512 = 2

    /// The best level this CPU runs, capped by HDRPATCH_SIMD when set (hp_cpu_level).
    package static let best = SIMDLevel(rawValue: hp_cpu_level()) ?? .generic

    package static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }
    package var name: String { ["generic", "avx2", "avx512"][Int(rawValue)] }
}

/// Buffer sizes of the direct path for one image size.
struct DirectGeometry {
    let height, width, wp, outCount, plane, block, blockEnd, lanes, laneEnd: Int

    init(height: Int, width: Int, level: SIMDLevel) {
        self.height = height
        self.width = width
        wp = width + 2
        outCount = height * wp
        block = Int(hp_conv3x3_block(level.rawValue))
        blockEnd = (outCount + block - 1) / block * block
        lanes = Int(hp_conv3x3_lanes(level.rawValue))
        laneEnd = (outCount + lanes - 1) / lanes * lanes
        let needed = max((height + 2) * wp + Int(hp_conv3x3_slack()), blockEnd)
        plane = (needed + 15) / 16 * 16
    }
}

extension Conv2D {
    var directApplies: Bool {
        algorithm != .im2col && kernelHeight == 3 && kernelWidth == 3 && stride == 1 && padding == 1
    }

    func directForward(
        output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>, n: Int, height: Int,
        width: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    ) {
        let level = simdLevel
        let g = DirectGeometry(height: height, width: width, level: level)
        let packedCount = hp_conv3x3_packed_count(level.rawValue, Int32(outChannels), Int32(inChannels))
        let threads = max(1, self.threads ?? Parallel.threads)
        workspace.ensureSlots(threads)
        let packed = workspace.reserve(packedCount)
        hp_conv3x3_pack(level.rawValue, weight, Int32(outChannels), Int32(inChannels), 0, packed)
        let cin = inChannels
        let cout = outChannels
        let imageIn = cin * height * width
        let imageOut = cout * height * width
        let perSlot = cin * g.plane + cout * g.plane
        if n >= threads {
            for t in 0..<threads { _ = workspace.slot(t).reserve(perSlot) }
            Parallel.run(
                threads,
                ImagesForwardJob(
                    workspace: workspace, level: level.rawValue, g: g, cin: cin, cout: cout,
                    threads: threads, n: n, x: x, y: y, packed: packed, bias: bias))
        } else {
            // Fewer images than threads (inference on a large tile): split each image's output rows instead.
            let buffer = workspace.slot(0).reserve(perSlot)
            let xp = buffer
            let yp = buffer + cin * g.plane
            let blocks = g.blockEnd / g.block
            for i in 0..<n {
                hp_pad(x + i * imageIn, Int32(cin), Int32(height), Int32(width), xp, g.plane)
                Parallel.run(
                    min(threads, blocks),
                    RowsForwardJob(
                        level: level.rawValue, g: g, cin: cin, cout: cout,
                        parts: min(threads, blocks), blocks: blocks, xp: xp,
                        yp: yp, packed: packed, bias: bias))
                hp_unpad(yp, g.plane, Int32(cout), Int32(height), Int32(width), y + i * imageOut, 0)
            }
        }
    }

    func directBackward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>?, dOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
        n: Int, height: Int, width: Int, weight: UnsafePointer<Float>?
    ) {
        let level = simdLevel
        let g = DirectGeometry(height: height, width: width, level: level)
        let cin = inChannels
        let cout = outChannels
        let threads = max(1, min(self.threads ?? Parallel.threads, n))
        workspace.ensureSlots(threads)
        let packedCount = hp_conv3x3_packed_count(level.rawValue, Int32(cin), Int32(cout))
        let packed = workspace.reserve(packedCount)
        if dInput != nil, let weight {
            hp_conv3x3_pack(level.rawValue, weight, Int32(cout), Int32(cin), 1, packed)
        }
        let accCount = cout * cin * 9 * g.lanes
        // Per slot: padded input, padded d output, d input on the grid, weight-gradient lanes, bias sums.
        let perSlot = cin * g.plane + cout * g.plane + (dInput == nil ? 0 : cin * g.plane) + accCount + 2 * cout
        for t in 0..<threads { _ = workspace.slot(t).reserve(perSlot) }
        Parallel.run(
            threads,
            BackwardJob(
                workspace: workspace, level: level.rawValue, g: g, cin: cin, cout: cout,
                threads: threads, n: n, x: x, dy: dy, packed: packed, dInput: dInput,
                withBias: dBias != nil, accCount: accCount))
        // Threads' partial sums, added in slot order: deterministic for a given thread count.
        for t in 0..<threads {
            let buffer = workspace.slot(t).pointer
            let acc = buffer + cin * g.plane + cout * g.plane + (dInput == nil ? 0 : cin * g.plane)
            hp_reduce_lanes(level.rawValue, acc, cout * cin * 9, dWeight)
            if let dBias {
                let sums = UnsafeMutableRawPointer(acc + accCount).bindMemory(to: Double.self, capacity: cout)
                for co in 0..<cout { dBias[co] += Float(sums[co]) }
            }
        }
    }

    // The parallel sections as values (`ParallelJob`): nothing is allocated per call, unlike a closure.

    /// Forward with the batch split over threads: each part pads, convolves and unpads its share of the images
    /// in its own workspace slot.
    private struct ImagesForwardJob: ParallelJob {
        let workspace: Workspace, level: Int32, g: DirectGeometry, cin: Int, cout: Int, threads: Int, n: Int
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        let packed: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?

        func run(part t: Int) {
            let imageIn = cin * g.height * g.width
            let imageOut = cout * g.height * g.width
            let buffer = workspace.slot(t).pointer
            let xp = buffer
            let yp = buffer + cin * g.plane
            for i in Parallel.share(t, of: threads, total: n) {
                hp_pad(x + i * imageIn, Int32(cin), Int32(g.height), Int32(g.width), xp, g.plane)
                hp_conv3x3_forward(
                    level, packed, bias, Int32(cout), Int32(cin), xp, g.plane, Int32(g.wp),
                    yp, g.plane, 0, Int32(g.outCount))
                hp_unpad(yp, g.plane, Int32(cout), Int32(g.height), Int32(g.width), y + i * imageOut, 0)
            }
        }
    }

    /// Forward of one padded image with its output blocks split over threads.
    private struct RowsForwardJob: ParallelJob {
        let level: Int32, g: DirectGeometry, cin: Int, cout: Int, parts: Int, blocks: Int
        let xp: UnsafeMutablePointer<Float>, yp: UnsafeMutablePointer<Float>
        let packed: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?

        func run(part t: Int) {
            let r = Parallel.share(t, of: parts, total: blocks)
            hp_conv3x3_forward(
                level, packed, bias, Int32(cout), Int32(cin), xp, g.plane, Int32(g.wp),
                yp, g.plane, Int32(r.lowerBound * g.block), Int32(min(r.upperBound * g.block, g.outCount)))
        }
    }

    /// Backward with the batch split over threads: each part sums its images' weight-gradient lanes and bias
    /// sums into its own slot (reduced in slot order afterwards) and writes its images' d input.
    private struct BackwardJob: ParallelJob {
        let workspace: Workspace, level: Int32, g: DirectGeometry, cin: Int, cout: Int, threads: Int, n: Int
        let x: UnsafePointer<Float>, dy: UnsafePointer<Float>, packed: UnsafeMutablePointer<Float>
        let dInput: UnsafeMutablePointer<Float>?, withBias: Bool, accCount: Int

        func run(part t: Int) {
            let height = g.height
            let width = g.width
            let imageIn = cin * height * width
            let imageOut = cout * height * width
            let buffer = workspace.slot(t).pointer
            let xp = buffer
            let dyp = xp + cin * g.plane
            let dxp = dyp + cout * g.plane
            let acc = dxp + (dInput == nil ? 0 : cin * g.plane)
            let biasSums = UnsafeMutableRawPointer(acc + accCount).bindMemory(to: Double.self, capacity: cout)
            acc.update(repeating: 0, count: accCount)
            biasSums.update(repeating: 0, count: cout)
            for i in Parallel.share(t, of: threads, total: n) {
                hp_pad(x + i * imageIn, Int32(cin), Int32(height), Int32(width), xp, g.plane)
                hp_pad(dy + i * imageOut, Int32(cout), Int32(height), Int32(width), dyp, g.plane)
                if withBias { hp_plane_sums(dyp, Int32(cout), g.plane, biasSums) }
                // d output on the output grid is the padded d output shifted by one row and one column: zero
                // exactly at the junk columns and past the last row.
                hp_conv3x3_weight_grad(
                    level, dyp + g.wp + 1, g.plane, Int32(cout), xp, g.plane, Int32(cin),
                    Int32(g.wp), 0, Int32(g.laneEnd), acc)
                if let dInput {
                    hp_conv3x3_forward(
                        level, packed, nil, Int32(cin), Int32(cout), dyp, g.plane, Int32(g.wp),
                        dxp, g.plane, 0, Int32(g.outCount))
                    hp_unpad(dxp, g.plane, Int32(cin), Int32(height), Int32(width), dInput + i * imageIn, 1)
                }
            }
        }
    }
}

import EXRIO
import Foundation
import Numerics
// The resume file beside the weights: optimizer state slots, step counters and the caller's RNG/loader position.
import RunFiles

/// Everything besides the weights that a run needs to continue exactly where it stopped.
package struct TrainingState: Sendable, Equatable {
    /// `optim.type` of the optimizer that wrote the state; loading into another type is refused.
    package var optimizerType: String
    /// The optimizer's `stepCount` (AdamW's bias correction, SGD's first-step momentum rule).
    package var optimizerStep: Int
    /// The next schedule step t (0-based update index).
    package var scheduleStep: Int
    /// Opaque to us: RNG states, loader epoch and position, whatever the trainer needs, as strings.
    package var resume: [String: String]

    package init(optimizerType: String, optimizerStep: Int, scheduleStep: Int, resume: [String: String] = [:]) {
        self.optimizerType = optimizerType
        self.optimizerStep = optimizerStep
        self.scheduleStep = scheduleStep
        self.resume = resume
    }
}

/// `<name>.state.safetensors`: one tensor per (state slot, parameter) named `<slot>.<parameter>` (e.g.
/// `exp_avg.layers.0.weight`), slots in slot order, parameters in registration order; `__metadata__` keys
/// `format` (`hdrpatch-state-1`), `optimizer`, `optimizer_step`, `schedule_step`, and `resume.<key>` per resume entry.
/// Loading restores the slots bit for bit and sets the optimizer's `stepCount`.
package enum TrainingStateFile {
    package static let format = "hdrpatch-state-1"

    package static func save(
        _ state: TrainingState, store: ParameterStore, optimizer: any ConfigurableOptimizer,
        to path: String
    ) throws {
        precondition(
            state.optimizerType == type(of: optimizer).type,
            "state for \(state.optimizerType) saved by \(type(of: optimizer).type)")
        var metadata = [
            "format": format, "optimizer": state.optimizerType,
            "optimizer_step": String(state.optimizerStep), "schedule_step": String(state.scheduleStep)
        ]
        for (k, v) in state.resume { metadata["resume." + k] = v }
        var refs: [Safetensors.TensorRef] = []
        for (k, slotName) in optimizer.stateNames.enumerated() {
            let slot = UnsafeBufferPointer(store.state(k))
            for e in store.entries {
                refs.append(
                    Safetensors.TensorRef(
                        name: "\(slotName).\(e.name)", shape: e.shape,
                        values: UnsafeBufferPointer(rebasing: slot[e.offset..<(e.offset + e.count)])))
            }
        }
        try Safetensors.write(refs, metadata: metadata, to: path)
    }

    /// Restores the optimizer's state slots in `store` and its `stepCount`; returns the saved state.
    /// Fails (changing nothing) on another optimizer type, missing metadata, or slot tensors that do not match the
    /// store's names and shapes exactly.
    package static func load(
        into store: ParameterStore, optimizer: any ConfigurableOptimizer,
        from path: String
    ) throws -> TrainingState {
        let file = try SafetensorsFile.read(path: path)
        func fail(_ reason: String) -> FileError { FileError(path: path, reason: reason) }
        func meta(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw fail("metadata has no '\(key)'") }
            return v
        }
        func count(_ key: String) throws -> Int {
            guard let v = Int(try meta(key)), v >= 0 else {
                throw fail("metadata '\(key)' is not a count: \(try meta(key))")
            }
            return v
        }
        guard try meta("format") == format else { throw fail("format '\(try meta("format"))', expected '\(format)'") }
        let type = try meta("optimizer")
        let ours = Swift.type(of: optimizer).type
        guard type == ours else { throw fail("optimizer state of '\(type)', the run uses '\(ours)'") }
        let optimizerStep = try count("optimizer_step")
        let scheduleStep = try count("schedule_step")
        let expected = optimizer.stateNames.flatMap { slot in store.entries.map { ("\(slot).\($0.name)", $0.shape) } }
        try WeightsFile.requireSameTensors(file, expected: expected, what: "optimizer state tensors")
        for (k, slotName) in optimizer.stateNames.enumerated() {
            let slot = store.state(k)
            for e in store.entries {
                file.copy(
                    file.tensor(named: "\(slotName).\(e.name)")!,
                    into: UnsafeMutableBufferPointer(rebasing: slot[e.offset..<(e.offset + e.count)]))
            }
        }
        optimizer.stepCount = optimizerStep
        var resume: [String: String] = [:]
        for (k, v) in file.metadata where k.hasPrefix("resume.") { resume[String(k.dropFirst("resume.".count))] = v }
        return TrainingState(
            optimizerType: type, optimizerStep: optimizerStep, scheduleStep: scheduleStep, resume: resume)
    }
}

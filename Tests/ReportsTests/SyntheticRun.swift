// A synthetic run directory whose every reported number is known by construction (see the comments).
import Foundation
import RunFiles
import TestSupport

enum SyntheticRun {
    static let lake = "lake <&>.exr"

    /// 300 steps (1...300), batch of 8:
    /// - steps 1...30: 4 overflow incidents from sunrise.exr, each of 10 + step pixels -> 120 incidents, 3,060 pixels;
    /// - steps 100 and 200: 1 incident of 7 pixels from `lake` -> 122 incidents, 3,074 pixels, 98% in steps 1...30;
    /// - steps 50 (non-finite loss, sunrise.exr) and 51 (non-finite gradient, a.exr) skipped, grad norm NaN;
    /// - val at 100, 200, 300: model PSNR-mu 30, 31, 32.5 vs identity 28.4; log-L1 0.08 vs 0.12 at the end;
    /// - clamp-hit 0.12% and saturation 3.4% after step 30; collapse `endCollapse` over steps 271...300.
    static func records(
        validation: Bool = true, endCollapse: Double = 0.05
    )
        -> (metrics: [MetricsRecord], monitor: [MonitorRecord], incidents: [Incident])
    {
        var metrics: [MetricsRecord] = []
        var monitor: [MonitorRecord] = []
        var incidents: [Incident] = []
        for step in 1...300 {
            let early = step <= 30
            var inc = early ? 4 : 0
            var px = early ? 4 * (10 + step) : 0
            if early {
                for k in 0..<4 {
                    incidents.append(
                        Incident(
                            step: step, kind: .overflow, file: "sunrise.exr", x: 16 * k, y: step,
                            value: Double(10 + step), detail: "max 1.2e+06"))
                }
            }
            if step == 100 || step == 200 {
                inc += 1
                px += 7
                incidents.append(
                    Incident(step: step, kind: .overflow, file: lake, x: 3, y: 4, value: 7, detail: "max 9.1e+04"))
            }
            let skipped = step == 50 || step == 51
            if step == 50 {
                incidents.append(
                    Incident(
                        step: 50, kind: .nonfiniteLoss, file: "sunrise.exr", x: 0, y: 0, value: .nan,
                        detail: "log_huber"))
            }
            if step == 51 {
                incidents.append(
                    Incident(
                        step: 51, kind: .nonfiniteGradient, file: "a.exr", x: 8, y: 8, value: .infinity,
                        detail: "net.conv1.weight"))
            }
            let loss = 2.0 / Double(step)
            monitor.append(
                MonitorRecord(
                    step: step, patches: 8, overflowPixels: px, overflowIncidents: inc,
                    clampHitRate: early ? 0.05 : 0.0012, saturationRate: early ? 0.2 : 0.034,
                    deltaMin: -3 - loss, deltaMax: 4 + loss,
                    deltaPercentiles: ["p1": -2, "p5": -1.5, "p50": 0.01 * Double(step % 7), "p95": 1.5, "p99": 2],
                    denomMean: 8, denomStd: 3, denomCV: 0.375, denomMin: 2, denomMax: 15,
                    learnableScale: 6 - Double(step) / 300, gradNorm: skipped ? .nan : 1 + loss,
                    collapse: step > 270 ? endCollapse : 0.1, skipped: skipped))
            if step % 10 == 0 {
                metrics.append(
                    MetricsRecord(
                        kind: "train", step: step, epoch: 0, wallSeconds: Double(step) / 4, lr: 1e-3,
                        loss: loss, terms: ["log_huber": loss * 0.75, "sparsity": loss * 0.25],
                        stepsPerSecond: 4, dataWaitFraction: 0.05))
            }
            if validation, step % 100 == 0 {
                let i = step / 100
                let model = EvalMetrics(
                    psnrMu: [30, 31, 32.5][i - 1], pu21Psnr: [40, 41, 42][i - 1], logL1: [0.1, 0.09, 0.08][i - 1],
                    terms: [:], loss: 0.1, overflowPixels: 0, overflowIncidents: 0, patches: 64)
                let identity = EvalMetrics(
                    psnrMu: 28.4, pu21Psnr: 39, logL1: 0.12, terms: [:], loss: 0.2,
                    overflowPixels: 0, overflowIncidents: 0, patches: 64)
                metrics.append(
                    MetricsRecord(
                        kind: "val", step: step, epoch: 0, wallSeconds: Double(step) / 4 + 1,
                        model: model, identity: identity))
            }
        }
        return (metrics, monitor, incidents)
    }

    /// Writes the records as a run writes them (JSON lines; NaN and Infinity as strings; RFC 4180 CSV).
    static func write(
        into dir: String, validation: Bool = true, endCollapse: Double = 0.05,
        config: String? = "name: synth-run\nseed: 7\n"
    ) throws {
        let r = records(validation: validation, endCollapse: endCollapse)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        func lines<T: Encodable>(_ xs: [T]) throws -> String {
            try xs.map { String(decoding: try enc.encode($0), as: UTF8.self) + "\n" }.joined()
        }
        try lines(r.metrics).write(toFile: dir + "/metrics.jsonl", atomically: false, encoding: .utf8)
        try lines(r.monitor).write(toFile: dir + "/monitor.jsonl", atomically: false, encoding: .utf8)
        try csv(r.incidents).write(toFile: dir + "/incidents.csv", atomically: false, encoding: .utf8)
        if let config { try config.write(toFile: dir + "/config.yaml", atomically: false, encoding: .utf8) }
    }

    static func csv(_ incidents: [Incident]) -> String {
        func q(_ s: String) -> String {
            s.contains(where: { ",\"\n\r".contains($0) })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return Incident.csvHeader + "\n"
            + incidents.map {
                [String($0.step), $0.kind.rawValue, q($0.file), String($0.x), String($0.y), "\($0.value)", q($0.detail)]
                    .joined(separator: ",") + "\n"
            }.joined()
    }
}

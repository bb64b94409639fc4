// JSON Lines for metrics.jsonl and monitor.jsonl: one object per line, sorted keys, and strict reading that
// forgives only a partial last line.
import Foundation

/// Encoding conventions (the report, ablation and any Python reader rely on them):
/// - keys sorted at every level, no whitespace, `/` not escaped, nil optionals omitted;
/// - non-finite doubles (a diverging run logs them) as the strings "NaN", "Infinity", "-Infinity": plain JSON
///   has no such numbers and JSONEncoder would refuse the whole record. Python: `float(v)` reads all three.
/// - a line is committed by its "\n": bytes after the last newline are a write cut short by a kill.
package enum JSONLines {
    package static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    package static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }

    /// A newline-terminated line of `bytes`: its 1-based number and its byte range without the newline.
    struct Line {
        var number: Int
        var range: Range<Int>
    }

    /// Complete lines, and the length of an unterminated tail (0 when the file ends with a newline).
    static func split(_ bytes: [UInt8]) -> (lines: [Line], partialTailBytes: Int) {
        var lines: [Line] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            lines.append(Line(number: lines.count + 1, range: start..<i))
            start = i + 1
        }
        return (lines, bytes.count - start)
    }

    /// Decodes every complete line as `T`; a blank or undecodable line is an error naming `path` and its line.
    static func decode<T: Decodable>(
        _: T.Type, _ bytes: [UInt8], path: String
    ) throws
        -> (records: [(record: T, line: Line)], partialTailBytes: Int)
    {
        let (lines, tail) = split(bytes)
        let d = decoder()
        var out: [(record: T, line: Line)] = []
        out.reserveCapacity(lines.count)
        for line in lines {
            if line.range.isEmpty { throw RunLogError(path: path, line: line.number, reason: "empty line") }
            do {
                out.append((try d.decode(T.self, from: Data(bytes[line.range])), line))
            } catch {
                throw RunLogError(path: path, line: line.number, reason: "not a valid \(T.self): \(describe(error))")
            }
        }
        return (out, tail)
    }

    /// DecodingError's default description is long and nested; the coding path and debug text are what help.
    static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            let path = c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

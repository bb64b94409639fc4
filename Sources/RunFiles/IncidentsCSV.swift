// incidents.csv: writing rows with RFC 4180 quoting, and reading them back strictly (quoted commas, quotes and
// newlines included), forgiving only a partial last row.

/// Rows end with "\n" (not RFC 4180's CRLF: every tool we care about reads both, and grep/awk see no stray "\r");
/// the reader accepts either. `value` is Swift's shortest round-trip text ("0.25", "1e+20", "nan", "inf"), which
/// Python's float() also reads.
package enum IncidentsCSV {
    package static func headerLine() -> [UInt8] { Array((Incident.csvHeader + "\n").utf8) }

    package static func line(_ i: Incident) -> [UInt8] {
        let fields = ["\(i.step)", i.kind.rawValue, i.file, "\(i.x)", "\(i.y)", "\(i.value)", i.detail]
        return Array((fields.map(quote).joined(separator: ",") + "\n").utf8)
    }

    /// Quotes a field only when it must be: it holds a comma, a double quote, CR or LF; inner quotes are doubled.
    package static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
        else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    struct Row {
        var fields: [String]
        /// The line the row starts on (a quoted newline makes a row span lines).
        var line: Int
        /// The row's bytes including its line terminator, to copy rows verbatim when truncating on resume.
        var range: Range<Int>
    }

    /// Every complete row, header included, and the length of an unterminated tail (0 when the file ends cleanly).
    static func rows(_ bytes: [UInt8], path: String) throws -> (rows: [Row], partialTailBytes: Int) {
        let quoteByte: UInt8 = 0x22
        let comma: UInt8 = 0x2C
        let lf: UInt8 = 0x0A
        let cr: UInt8 = 0x0D
        var rows: [Row] = []
        var i = 0
        var line = 1
        let n = bytes.count
        while i < n {
            let start = i
            let startLine = line
            var fields: [String] = []
            rowLoop: while true {
                var field: [UInt8] = []
                if i < n && bytes[i] == quoteByte {
                    i += 1
                    while true {
                        if i >= n { return (rows, n - start) }  // unterminated quote at EOF: a cut-short row
                        let c = bytes[i]
                        if c == quoteByte {
                            if i + 1 < n && bytes[i + 1] == quoteByte {
                                field.append(quoteByte)
                                i += 2
                                continue
                            }
                            i += 1
                            break
                        }
                        if c == lf { line += 1 }
                        field.append(c)
                        i += 1
                    }
                    if i < n && bytes[i] != comma && bytes[i] != lf
                        && !(bytes[i] == cr && i + 1 < n && bytes[i + 1] == lf)
                    {
                        throw RunLogError(path: path, line: line, reason: "text after a closing quote")
                    }
                } else {
                    while i < n && bytes[i] != comma && bytes[i] != lf {
                        if bytes[i] == quoteByte {
                            throw RunLogError(path: path, line: line, reason: "a quote inside an unquoted field")
                        }
                        field.append(bytes[i])
                        i += 1
                    }
                    if i < n && bytes[i] == lf && field.last == cr { field.removeLast() }
                }
                guard let text = String(validating: field, as: UTF8.self) else {
                    throw RunLogError(path: path, line: line, reason: "invalid UTF-8")
                }
                fields.append(text)
                if i >= n { return (rows, n - start) }  // no line terminator: a cut-short row
                if bytes[i] == comma {
                    i += 1
                    continue rowLoop
                }
                if bytes[i] == cr { i += 1 }
                i += 1  // the "\n"
                line += 1
                break rowLoop
            }
            rows.append(Row(fields: fields, line: startLine, range: start..<i))
        }
        return (rows, 0)
    }

    /// Checks the header and converts every data row; wrong field counts, numbers or kinds name the row's line.
    static func incidents(
        _ bytes: [UInt8], path: String
    ) throws -> (incidents: [(incident: Incident, row: Row)], partialTailBytes: Int) {
        let (parsed, tail) = try rows(bytes, path: path)
        guard let header = parsed.first else { return ([], tail) }
        if header.fields.joined(separator: ",") != Incident.csvHeader {
            throw RunLogError(path: path, line: 1, reason: "header is not \"\(Incident.csvHeader)\"")
        }
        var out: [(incident: Incident, row: Row)] = []
        for row in parsed.dropFirst() { out.append((incident: try incident(row, path: path), row: row)) }
        return (out, tail)
    }

    static func incident(_ row: Row, path: String) throws -> Incident {
        let f = row.fields
        func bad(_ what: String) -> RunLogError { RunLogError(path: path, line: row.line, reason: what) }
        if f.count != 7 { throw bad("\(f.count) fields, expected 7 (\(Incident.csvHeader))") }
        guard let step = Int(f[0]) else { throw bad("step \"\(f[0])\" is not an integer") }
        guard let kind = Incident.Kind(rawValue: f[1]) else {
            throw bad(
                "unknown kind \"\(f[1])\" (known: \(Incident.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let x = Int(f[3]) else { throw bad("x \"\(f[3])\" is not an integer") }
        guard let y = Int(f[4]) else { throw bad("y \"\(f[4])\" is not an integer") }
        guard let value = Double(f[5]) else { throw bad("value \"\(f[5])\" is not a number") }
        return Incident(step: step, kind: kind, file: f[2], x: x, y: y, value: value, detail: f[6])
    }
}

// RFC 4180 reading of incidents.csv (`step,kind,file,x,y,value,detail`): quoted fields may hold commas,
// doubled quotes and newlines, so rows are split by a small state machine, not by lines.
import Foundation
import Training

enum IncidentsCSV {
    /// - Parameter skipped: receives a note when an unterminated last row is dropped (a write in progress).
    static func parse(_ text: String, file: String, skipped: inout [String]) throws -> [Incident] {
        let (rows, complete) = splitRows(text)
        guard let header = rows.first else { return [] }
        guard header.fields.joined(separator: ",") == Incident.csvHeader else {
            throw ReportError(path: "\(file):1", reason: "expected header \(Incident.csvHeader)")
        }
        var out: [Incident] = []
        for (i, row) in rows.enumerated().dropFirst() {
            if row.fields == [""] { continue }
            do {
                out.append(try incident(row.fields))
            } catch let e as RowError {
                if i == rows.count - 1 && !complete {
                    skipped.append("\((file as NSString).lastPathComponent) line \(row.line)")
                    continue
                }
                throw ReportError(path: "\(file):\(row.line)", reason: e.reason)
            }
        }
        return out
    }

    static func incident(_ f: [String]) throws -> Incident {
        guard f.count == 7 else { throw RowError(reason: "expected 7 fields, found \(f.count)") }
        guard let step = Int(f[0]) else { throw RowError(reason: "step is not an integer: \(f[0])") }
        guard let kind = Incident.Kind(rawValue: f[1]) else {
            throw RowError(
                reason:
                    "unknown kind \(f[1]) (known: \(Incident.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let x = Int(f[3]), let y = Int(f[4]) else { throw RowError(reason: "x, y are not integers") }
        guard let value = Double(f[5]) ?? nonFinite(f[5]) else {
            throw RowError(reason: "value is not a number: \(f[5])")
        }
        return Incident(step: step, kind: kind, file: f[2], x: x, y: y, value: value, detail: f[6])
    }

    static func nonFinite(_ s: String) -> Double? {
        switch s.lowercased() {
        case "nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }

    /// Rows with their 1-based starting line; `complete` is false when the text ends inside a row
    /// (no final newline, or an open quote).
    static func splitRows(_ text: String) -> (rows: [(fields: [String], line: Int)], complete: Bool) {
        var rows: [(fields: [String], line: Int)] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var inRow = false
        var line = 1
        var rowLine = 1
        var it = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if !inRow {
                inRow = true
                rowLine = line
            }
            if quoted {
                if c == "\"" {
                    let n = it.next()
                    if n == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                        pending = n
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\r": break
            case "\n":
                fields.append(field)
                field = ""
                rows.append((fields, rowLine))
                fields = []
                inRow = false
                line += 1
            default: field.unicodeScalars.append(c)
            }
        }
        if inRow {
            fields.append(field)
            rows.append((fields, rowLine))
            return (rows, false)
        }
        return (rows, !quoted)
    }
}

/// Why one row is not an incident; becomes a ReportError naming file and line.
struct RowError: Error { var reason: String }

// "did you mean ...?" for unknown keys and names: the closest candidate within a small edit distance.

package enum DidYouMean {
    /// The candidate nearest to `word` by optimal-string-alignment distance (a swap of neighbours counts 1),
    /// if that distance is at most `maxDistance`; ties go to the first candidate in the given order.
    package static func suggest(_ word: String, among candidates: [String], maxDistance: Int = 2) -> String? {
        var best: (String, Int)?
        for c in candidates where c != word {
            let d = distance(word, c)
            if d <= maxDistance, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    /// "unknown <what> '<word>' (did you mean '<nearest>'?); known: a, b": the message for a name outside `known`.
    package static func unknown(_ what: String, _ word: String, among known: [String]) -> String {
        let hint = suggest(word, among: known).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown \(what) '\(word)'\(hint); known: \(known.joined(separator: ", "))"
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let s = Array(a)
        let t = Array(b)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: t.count + 1), count: s.count + 1)
        for i in 0...s.count { d[i][0] = i }
        for j in 0...t.count { d[0][j] = j }
        for i in 1...s.count {
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[s.count][t.count]
    }
}

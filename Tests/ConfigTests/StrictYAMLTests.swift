// Strict config reading: exact messages for unknown keys, wrong types, missing keys, nested paths, bad YAML.
import Testing

@testable import Config

struct StrictYAMLTests {
    /// The message a throwing body produces, or "no error".
    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func typedValuesDefaultsAndOptionals() throws {
        let m = try StrictYAML.parse(
            """
            a: 1.5
            n: 3
            flag: true
            name: phone
            empty: null
            """)
        #expect(try m.required("a", Double.self) == 1.5)
        #expect(try m.required("n", Double.self) == 3)  // an integer is a number
        #expect(try m.required("n", Int.self) == 3)
        #expect(try m.required("flag", Bool.self) == true)
        #expect(try m.required("name", String.self) == "phone")
        #expect(try m.optional("empty", Int.self) == nil)
        #expect(try m.optional("absent", Int.self) == nil)
        #expect(try m.value("missing", default: 7) == 7)
        try m.finish()
    }

    @Test func unknownKeySuggestsTheNearestKnownKey() throws {
        let m = try StrictYAML.parse("sigmaa: 2\n")
        _ = try m.optional("sigma", Double.self)
        #expect(message { try m.finish() } == "config error: sigmaa: unknown key (did you mean 'sigma'?)")
        // A transposition counts as one edit; distance 3 gets no suggestion but the list of known keys.
        let t = try StrictYAML.parse("sigam: 2\n")
        #expect(
            message { try t.finish(known: ["sigma"]) } == "config error: sigam: unknown key (did you mean 'sigma'?)")
        let far = try StrictYAML.parse("radius: 2\n")
        _ = try far.value("sigma", default: 1.0)
        #expect(
            message { try far.finish(known: ["bits"]) } == "config error: radius: unknown key; known keys: bits, sigma")
    }

    @Test func wrongTypesNameExpectedAndFound() throws {
        let m = try StrictYAML.parse(
            """
            a: hello
            b: 8.0
            c: [1, 2]
            d: 3
            e: .inf
            f: null
            """)
        #expect(
            message { _ = try m.required("a", Double.self) }
                == "config error: a: expected a number, found string 'hello'")
        #expect(
            message { _ = try m.required("b", Int.self) } == "config error: b: expected an integer, found number 8.0")
        #expect(message { _ = try m.required("c", String.self) } == "config error: c: expected a string, found list")
        #expect(
            message { _ = try m.required("d", Bool.self) } == "config error: d: expected a boolean, found integer 3")
        #expect(
            message { _ = try m.required("e", Double.self) }
                == "config error: e: expected a number, found non-finite number .inf")
        #expect(message { _ = try m.required("f", Double.self) } == "config error: f: expected a number, found null")
        #expect(message { _ = try m.value("f", default: 1.0) } == "config error: f: expected a number, found null")
    }

    @Test func missingRequiredKeyAndBounds() throws {
        let m = try StrictYAML.parse("sigma: -1\nbits: 17\n")
        #expect(message { _ = try m.required("white", Double.self) } == "config error: white: missing required key")
        #expect(
            message { _ = try m.required("sigma", in: .greaterThan(0.0)) }
                == "config error: sigma: must be > 0.0, got -1.0")
        #expect(
            message { _ = try m.value("bits", default: 8, in: .within(1...16)) }
                == "config error: bits: must be in [1, 16], got 17")
        #expect(try m.value("gain", default: -5.0, in: .atLeast(0.0)) == -5)  // defaults are the code's own choice
    }

    @Test func nestedKeyPathsInMessages() throws {
        let m = try StrictYAML.parse(
            """
            name: x
            steps:
              - type: a
              - type: b
                inner:
                  depth: deep
            """)
        let steps = try m.mappings("steps")
        #expect(steps.map(\.path) == ["steps.0", "steps.1"])
        let inner = try steps[1].mapping("inner")
        #expect(
            message { _ = try inner.required("depth", Int.self) }
                == "config error: steps.1.inner.depth: expected an integer, found string 'deep'")
        #expect(
            message { _ = try steps[0].required("sigma", Double.self) }
                == "config error: steps.0.sigma: missing required key")
        let e = try #require(throws: ConfigError.self) { try inner.required("depth", Int.self) }
        #expect(e.keyPath == "steps.1.inner.depth" && e.line == 6 && e.file == nil)
        #expect(message { _ = try m.mappings("name") } == "config error: name: expected a list, found string 'x'")
        let bad = try StrictYAML.parse("steps: [1]\n")
        #expect(
            message { _ = try bad.mappings("steps") } == "config error: steps.0: expected a mapping, found integer 1")
    }

    @Test func syntaxErrorsAndDocumentShape() throws {
        let e = try #require(throws: ConfigError.self) { try StrictYAML.parse("a: [1, 2\nb: 3\n", file: "r.yaml") }
        #expect(e.keyPath == "" && e.file == "r.yaml" && e.line != nil)
        #expect(e.description.hasPrefix("config error: YAML syntax error at line "))
        #expect(!e.description.contains("\n"))
        #expect(
            message { _ = try StrictYAML.parse("- 1\n- 2\n") }
                == "config error: expected a mapping at the top level, found list")
        #expect(message { _ = try StrictYAML.parse("") } == "config error: empty document; expected a mapping")
        #expect(
            message { _ = try StrictYAML.parse("a: 1\na: 2\n") }
                == "config error: duplicate key 'a' in the mapping at line 1")
        let missing = try #require(throws: ConfigError.self) { try StrictYAML.load(path: "/nonexistent/r.yaml") }
        #expect(
            missing.file == "/nonexistent/r.yaml" && missing.description == "config error: No such file or directory")
    }

    @Test func editDistance() {
        #expect(DidYouMean.distance("sigma", "sigmaa") == 1)
        #expect(DidYouMean.distance("sigma", "sigam") == 1)
        #expect(DidYouMean.distance("kitten", "sitting") == 3)
        #expect(DidYouMean.suggest("bitz", among: ["bits", "curve"]) == "bits")
        #expect(DidYouMean.suggest("xyz", among: ["bits", "curve"]) == nil)
    }
}

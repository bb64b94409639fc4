// The resolved-record form of the sections defined outside this folder (model, residual), and JSON values
// turned back into YAML nodes so a resolved record can be decoded again by the same strict readers.
import Config
import Model
import Yams

extension ModelConfig {
    /// `{arch, depth, width, conv_algorithm}` or `{arch, width, levels}`.
    package var json: JSONValue {
        switch self {
        case .plain(let depth, let width, let conv):
            return .object([
                "arch": .string("plain"), "depth": .integer(depth), "width": .integer(width),
                "conv_algorithm": .string(conv.rawValue)
            ])
        case .unet(let width, let levels):
            return .object(["arch": .string("unet"), "width": .integer(width), "levels": .integer(levels)])
        }
    }

    /// `json` with `inputs` (and `clip_level`, and `self_ensemble` when not 1) added: the resolved `model:` section.
    package func json(inputs: NetworkInputs, selfEnsemble: SelfEnsemble = .single) -> JSONValue {
        guard case .object(var o) = json else { return json }
        o.merge(inputs.json) { a, _ in a }
        o.merge(selfEnsemble.json) { a, _ in a }
        return .object(o)
    }

    /// Names the architecture in errors about other sections: "model.arch unet with levels 2".
    var label: String {
        switch self {
        case .plain: return "model.arch plain"
        case .unet(_, let levels): return "model.arch unet with levels \(levels)"
        }
    }
}

extension ResidualConfig {
    /// `{mode, <the mode's keys>, scale, clamp}`; clamp null when off.
    package var json: JSONValue {
        var o: [String: JSONValue] = [
            "mode": .string(mode.name), "scale": floatJSON(scale),
            "clamp": clamp.map(floatJSON) ?? .null
        ]
        switch mode {
        case .fixedCap(let cap, let alpha):
            o["cap"] = floatJSON(cap)
            o["alpha"] = floatJSON(alpha)
        case .adaptive(let k):
            o["k"] = floatJSON(k)
        case .learnable(let initial):
            o["learnable_init"] = floatJSON(initial)
        }
        return .object(o)
    }
}

/// A Float config value as the shortest decimal that reads back to it: 0.9 stays 0.9 (Double(Float(0.9)) would
/// print 0.8999999761581421), and reading 0.9 into a Float gives the same Float again.
func floatJSON(_ f: Float) -> JSONValue { .number(Double(f.description)!) }

extension JSONValue {
    /// The value as a composed YAML node with explicit tags (numbers keep their kind: 2 integer, 2.0 number).
    var yamlNode: Node {
        switch self {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .integer(let i): return Node(String(i), Tag(.int))
        case .number(let d): return Node(d.description, Tag(.float))
        case .string(let s): return Node(s, Tag(.str))
        case .array(let a): return .sequence(Node.Sequence(a.map(\.yamlNode)))
        case .object(let o):
            return .mapping(Node.Mapping(o.keys.sorted().map { (Node($0, Tag(.str)), o[$0]!.yamlNode) }))
        }
    }
}

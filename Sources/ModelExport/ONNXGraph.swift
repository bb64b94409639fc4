// A small builder of ONNX graphs over the generated protobuf types (Sources/ONNXProto): nodes, initializers and
// constants with unique names, each node with a name and a doc string.
import Foundation
import ONNXProto

/// Collects the nodes and initializers of one graph in the order they are added (already topological: a node
/// only reads values added before it).
final class ONNXGraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var used: Set<String> = []
    /// Parameters added by `parameter`, by name: a second branch of the graph reads the same initializer.
    private var parameters: [String: String] = [:]
    /// Prefixed to every node's output name (a self-ensemble's branch: "ensemble.3."); "" by default.
    var scope = ""
    /// The operator set the graph is written for: ops whose signature changed pick their form from it.
    let opset: Int

    init(opset: Int) { self.opset = opset }

    /// `base`, or `base_2`, `base_3`, ... when taken.
    func unique(_ base: String) -> String {
        var name = base
        var k = 2
        while used.contains(name) {
            name = "\(base)_\(k)"
            k += 1
        }
        used.insert(name)
        return name
    }

    /// Marks a graph input's name as taken.
    func reserve(_ name: String) { used.insert(name) }

    /// Adds a node `op` reading `inputs` ("" for an omitted optional input) and returns its output's name
    /// (`output`, made unique).
    @discardableResult
    func node(
        _ op: String, _ inputs: [String], output: String, doc: String, attributes: [Onnx_AttributeProto] = []
    ) -> String {
        let out = unique(scope + output)
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = [out]
        n.name = out
        n.docString = doc
        n.attribute = attributes
        nodes.append(n)
        return out
    }

    /// A float32 initializer of `shape` (row-major values); returns its name (`name`, made unique).
    func floats(_ name: String, shape: [Int], _ values: [Float], doc: String) -> String {
        precondition(
            values.count == shape.reduce(1, *), "ONNXGraphBuilder: \(name): \(values.count) values for \(shape)")
        var t = Onnx_TensorProto()
        t.name = unique(name)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = shape.map(Int64.init)
        t.rawData = values.withUnsafeBufferPointer { p in
            // ONNX raw_data is little-endian: this machine's order (checked once, here).
            precondition(UInt32(1).littleEndian == 1, "ONNXGraphBuilder: big-endian host")
            return Data(buffer: p)
        }
        t.docString = doc
        initializers.append(t)
        return t.name
    }

    /// `floats` once per name: every later call with the same name returns the first initializer (the weights
    /// that each branch of a self-ensemble shares).
    func parameter(_ name: String, shape: [Int], _ values: @autoclosure () -> [Float], doc: String) -> String {
        shared(name) { floats(name, shape: shape, values(), doc: doc) }
    }

    /// `int64s` once per name, as `parameter`.
    func sharedInt64s(_ name: String, _ values: [Int64], doc: String) -> String {
        shared(name) { int64s(name, values, doc: doc) }
    }

    /// The initializer first made for `name`, or the one `make` adds now.
    private func shared(_ name: String, _ make: () -> String) -> String {
        if let known = parameters[name] { return known }
        let made = make()
        parameters[name] = made
        return made
    }

    /// A float32 scalar (shape []) initializer.
    func scalar(_ name: String, _ value: Float, doc: String) -> String { floats(name, shape: [], [value], doc: doc) }

    /// An int64 initializer of shape [values.count].
    func int64s(_ name: String, _ values: [Int64], doc: String) -> String {
        var t = Onnx_TensorProto()
        t.name = unique(name)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.dims = [Int64(values.count)]
        t.int64Data = values
        t.docString = doc
        initializers.append(t)
        return t.name
    }

    static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func attribute(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func attribute(_ name: String, float value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func attribute(_ name: String, string value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }

    /// A float32 tensor value (N, C, H, W) with N, H and W named (dynamic) and C fixed.
    static func imageValue(_ name: String, channels: Int, doc: String) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.docString = doc
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = ["N", "\(channels)", "H", "W"].map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let k = Int64(d) { dim.dimValue = k } else { dim.dimParam = d }
            return dim
        }
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        v.type = type
        return v
    }
}

import Foundation
import BSQAudio
import SwiftProtobuf

/// An ONNX graph under construction: nodes appended in execution order, each
/// with fresh output names, and initializers stored as little-endian raw data.
/// The element types of `onnx.proto` that the kit's graphs use.
struct ONNXGraph {
    enum Element: Int32 { case float = 1, int64 = 7 }

    private(set) var proto = Onnx_GraphProto()
    private var used: [String: Int] = [:]

    init(name: String) { proto.name = name }

    /// A name not used yet, from `hint`.
    mutating func fresh(_ hint: String) -> String {
        let n = used[hint, default: 0]
        used[hint] = n + 1
        return n == 0 ? hint : "\(hint)_\(n)"
    }

    /// An initializer of float32 values with `dims` (row-major).
    mutating func floats(_ name: String, _ values: [Float], dims: [Int]) -> String {
        precondition(values.count == dims.reduce(1, *), "\(name): \(values.count) values for dims \(dims)")
        var t = Onnx_TensorProto()
        t.name = fresh(name)
        t.dims = dims.map(Int64.init)
        t.dataType = Element.float.rawValue
        t.rawData = values.withUnsafeBufferPointer { b in Data(buffer: b) }   // x86-64 and arm64: little-endian, as ONNX stores raw data
        proto.initializer.append(t)
        return t.name
    }

    /// A float32 scalar initializer.
    mutating func scalar(_ name: String, _ value: Float) -> String { floats(name, [value], dims: []) }

    /// An initializer of int64 values with `dims`.
    mutating func int64s(_ name: String, _ values: [Int64], dims: [Int]? = nil) -> String {
        var t = Onnx_TensorProto()
        t.name = fresh(name)
        t.dims = (dims ?? [values.count]).map(Int64.init)
        t.dataType = Element.int64.rawValue
        t.rawData = values.withUnsafeBufferPointer { b in Data(buffer: b) }
        proto.initializer.append(t)
        return t.name
    }

    /// A node of the default domain with one output; returns the output's name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], name hint: String? = nil) -> String {
        nodes(op, inputs, attributes, outputs: 1, name: hint)[0]
    }

    /// A node with `outputs` outputs; returns their names.
    mutating func nodes(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], outputs: Int,
                        name hint: String? = nil) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = fresh(hint ?? op)
        n.input = inputs
        n.output = (0..<outputs).map { _ in fresh((hint ?? op) + "_out") }
        n.attribute = attributes
        proto.node.append(n)
        return n.output
    }

    /// Gives the last node's (first) output the name `name`, a graph output's.
    mutating func renameLastOutput(to name: String) {
        precondition(used[name] == nil || proto.node.last?.output.first == name, "\(name) is taken")
        used[name, default: 0] += 1
        proto.node[proto.node.count - 1].output[0] = name
    }

    /// A graph input or output: `element` with `dims`, a string naming a symbolic dimension.
    static func value(_ name: String, _ element: Element, _ dims: [Any]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = element.rawValue
        t.shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let n = d as? Int { dim.dimValue = Int64(n) } else { dim.dimParam = "\(d)" }
            return dim
        }
        v.type.tensorType = t
        return v
    }

    mutating func input(_ name: String, _ element: Element, _ dims: [Any]) { proto.input.append(ONNXGraph.value(name, element, dims)) }
    mutating func output(_ name: String, _ element: Element, _ dims: [Any]) { proto.output.append(ONNXGraph.value(name, element, dims)) }

    /// The model around the graph: IR version 8, opset 17 of the default domain.
    func model(docString: String, metadata: [(String, String)]) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "bsq-audio"
        m.producerVersion = KitVersion.number
        m.docString = docString
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = 17
        m.opsetImport = [opset]
        m.metadataProps = metadata.map { k, v in
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            return e
        }
        m.graph = proto
        return m
    }
}

/// Attributes of ONNX nodes.
enum Attribute {
    static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(v)
        return a
    }

    static func float(_ name: String, _ v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = v
        return a
    }

    static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v.map(Int64.init)
        return a
    }
}

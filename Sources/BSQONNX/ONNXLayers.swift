import BSQAudio
import Foundation

/// A model's flat weights, read tensor by tensor as the typed layers name them.
struct ONNXWeights {
    let all: [Float]
    init(_ all: [Float]) { self.all = all }

    func values(_ p: Parameter) -> [Float] { Array(all[p.offset..<(p.offset + p.count)]) }

    /// A [out, in] weight as [in, out], for MatMul.
    func transposed(_ p: Parameter) -> [Float] {
        let rows = p.shape[0], cols = p.shape[1], v = values(p)
        var t = [Float](repeating: 0, count: v.count)
        for r in 0..<rows { for k in 0..<cols { t[k * rows + r] = v[r * cols + k] } }
        return t
    }
}

/// The layers both exporters use, as ONNX nodes.
extension ONNXGraph {
    /// x·Wᵀ (+ b) over the last axis; the weight stored transposed under its key.
    mutating func dense(_ x: String, _ d: Dense, _ w: ONNXWeights) -> String {
        let y = node("MatMul", [x, floats(d.weight.name, w.transposed(d.weight), dims: [d.inDim, d.outDim])])
        guard let b = d.bias else { return y }
        return node("Add", [y, floats(b.name, w.values(b), dims: [d.outDim])])
    }

    /// LayerNorm over the last axis with the norm's eps.
    mutating func layerNorm(_ x: String, _ n: Norm, _ w: ONNXWeights) -> String {
        node("LayerNormalization", [x, floats(n.weight.name, w.values(n.weight), dims: [n.width]),
                                    floats(n.bias.name, w.values(n.bias), dims: [n.width])],
             [Attribute.int("axis", -1), Attribute.float("epsilon", Float(n.eps))])
    }

    /// The exact GELU, y·½·(1 + erf(y/√2)).
    mutating func gelu(_ y: String) -> String {
        let erf = node("Erf", [node("Mul", [y, scalar("inv_sqrt2", Float(1 / 2.0.squareRoot()))])])
        return node("Mul", [node("Mul", [y, scalar("half", 0.5)]), node("Add", [erf, scalar("one", 1)])])
    }

    /// dB to [−1, 1]: 2·(clamp(x, lo, hi) − lo)/(hi − lo) − 1.
    mutating func normalize(_ x: String, dbMin: Double, dbMax: Double) -> String {
        let lo = Float(dbMin), hi = Float(dbMax)
        var y = node("Clip", [x, scalar("db_min", lo), scalar("db_max", hi)])
        y = node("Sub", [y, scalar("db_min", lo)])
        y = node("Mul", [y, scalar("two_over_span", 2 / (hi - lo))])
        return node("Sub", [y, scalar("one", 1)])
    }

    /// A depthwise convolution over the last axis of [rows, channels, steps]
    /// (zero padding (K − 1)/2 each side), weight [channels, K] or [channels, 1, K].
    mutating func depthwiseConv(_ x: String, weight: Parameter, bias: Parameter, channels: Int, kernel K: Int, _ w: ONNXWeights) -> String {
        node("Conv", [x, floats(weight.name, w.values(weight), dims: [channels, 1, K]), floats(bias.name, w.values(bias), dims: [channels])],
             [Attribute.int("group", channels), Attribute.ints("kernel_shape", [K]), Attribute.ints("pads", [(K - 1) / 2, (K - 1) / 2])])
    }

    /// Writes each model into `folder` (created if needed), atomically.
    static func write(_ models: [(String, Onnx_ModelProto)], to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, model) in models {
            let bytes: [UInt8] = try model.serializedBytes()
            let file = try AtomicFile(path: folder + "/" + name)
            do { try file.write(bytes); try file.commit() } catch { file.discard(); throw error }
        }
    }
}

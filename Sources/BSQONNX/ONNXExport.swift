import BSQAudio
import Foundation
import SwiftProtobuf

/// `bsq-train export --onnx`: a checkpoint's encoder and decoder as two ONNX
/// graphs (opset 17), walked from the typed model (`BSQNetwork`) so that
/// every tensor is found by the layer that owns it. Docs: docs/onnx.md.
///
/// - `encoder.onnx`: input `mel` float32 [batch, frames, n_mels] in dB (one
///   chunk per batch row) → output `codes` int64 [batch, nt, nf], the integers
///   `bsq-encode` writes (docs/model.md steps 1–5 and "Tokens").
/// - `decoder.onnx`: input `codes` int64 [batch, nt, nf] → output `mel`
///   float32 [batch, frames, n_mels] in dB (step 6).
///
/// Linear weights are stored transposed ([in, out], for MatMul) under their
/// checkpoint keys; LayerNormalization, Erf (the exact GELU), Softmax
/// attention, the depthwise time convolution as a grouped Conv over each
/// frequency band, BatchNormalization with the running statistics.
public struct ONNXExport {
    let net: BSQNetwork
    let w: ONNXWeights
    let checkpoint: Checkpoint
    var c: ModelConfig { net.config }

    public init(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
        net = BSQNetwork(checkpoint.config)
        w = ONNXWeights(checkpoint.weights)
    }

    /// Writes `encoder.onnx` and `decoder.onnx` into `folder` (created if
    /// needed), each atomically.
    public func write(to folder: String) throws {
        try ONNXGraph.write([("encoder.onnx", encoder()), ("decoder.onnx", decoder())], to: folder)
    }

    var metadata: [(String, String)] {
        [("config", c.json), ("model_name", checkpoint.name), ("model_sha256", checkpoint.sha256),
         ("bits", String(c.embed_dim))]
    }

    // MARK: the two graphs

    public func encoder() -> Onnx_ModelProto {
        var g = ONNXGraph(name: "bsq_encoder")
        g.input("mel", .float, ["batch", c.frames, c.n_mels])
        // step 1: normalize to [-1, 1]
        var x = g.normalize("mel", dbMin: c.db_min, dbMax: c.db_max)
        // step 2: patches [batch, N, P]
        x = g.node("Reshape", [x, g.int64s("grid", [0, Int64(c.nt), Int64(c.patch_time), Int64(c.nf), Int64(c.patch_freq)])])
        x = g.node("Transpose", [x], [Attribute.ints("perm", [0, 1, 3, 2, 4])])
        x = g.node("Reshape", [x, g.int64s("patches", [0, Int64(c.tokens), Int64(c.patchDim)])])
        // step 3: embedding, positions, transformer
        var h = g.dense(x, net.patchEmbed, w)
        h = g.node("Add", [h, g.floats(net.encoder.positional.name, w.values(net.encoder.positional), dims: [c.tokens, c.width])])
        h = stack(&g, h, net.encoder)
        // step 5: the signs of z = e·W_qᵀ + b_q (normalizing does not change them) weighted by 2^(L−1−k)
        let z = g.dense(h, net.quantEmbed, w)
        let positive = g.node("Cast", [g.node("Greater", [z, g.scalar("zero", 0)])], [Attribute.int("to", Int(ONNXGraph.Element.int64.rawValue))])
        let powers = (0..<c.embed_dim).map { Int64(1) << Int64(c.embed_dim - 1 - $0) }
        var codes = g.node("Mul", [positive, g.int64s("bit_values", powers)])
        codes = g.node("ReduceSum", [codes, g.int64s("last_axis", [-1])], [Attribute.int("keepdims", 0)])
        g.node("Reshape", [codes, g.int64s("code_grid", [0, Int64(c.nt), Int64(c.nf)])])
        g.renameLastOutput(to: "codes")
        g.output("codes", .int64, ["batch", c.nt, c.nf])
        return g.model(docString: "bsq-audio encoder: mel [batch, frames, n_mels] in dB -> codes [batch, time_patches, freq_patches]",
                       metadata: metadata)
    }

    public func decoder() -> Onnx_ModelProto {
        var g = ONNXGraph(name: "bsq_decoder")
        g.input("codes", .int64, ["batch", c.nt, c.nf])
        // q: coordinate k is +1/√L when bit L−1−k of the token is set, else −1/√L
        let L = c.embed_dim
        let t = g.node("Reshape", ["codes", g.int64s("token_column", [0, Int64(c.tokens), 1])])
        let powers = (0..<L).map { Int64(1) << Int64(L - 1 - $0) }
        let bits = g.node("Mod", [g.node("Div", [t, g.int64s("bit_values", powers)]), g.int64s("two", [2], dims: [])])
        let scale = Float(1 / Double(L).squareRoot())
        var q = g.node("Cast", [bits], [Attribute.int("to", Int(ONNXGraph.Element.float.rawValue))])
        q = g.node("Sub", [g.node("Mul", [q, g.scalar("two_over_sqrt_L", 2 * scale)]), g.scalar("one_over_sqrt_L", scale)])
        // step 6
        var h = g.dense(q, net.postQuantEmbed, w)
        h = g.node("Add", [h, g.floats(net.decoder.positional.name, w.values(net.decoder.positional), dims: [c.tokens, c.width])])
        h = stack(&g, h, net.decoder)
        let f = g.node("Tanh", [g.dense(h, net.ffn, w)])
        var y = g.dense(f, net.convOut, w)
        y = g.node("Reshape", [y, g.int64s("grid", [0, Int64(c.nt), Int64(c.nf), Int64(c.patch_time), Int64(c.patch_freq)])])
        y = g.node("Transpose", [y], [Attribute.ints("perm", [0, 1, 3, 2, 4])])
        y = g.node("Reshape", [y, g.int64s("frames", [0, Int64(c.frames), Int64(c.n_mels)])])
        let lo = Float(c.db_min), hi = Float(c.db_max)
        y = g.node("Add", [g.node("Mul", [g.node("Add", [y, g.scalar("one", 1)]), g.scalar("half_span", (hi - lo) / 2)]), g.scalar("db_min", lo)])
        g.node("Clip", [y, g.scalar("db_min", lo), g.scalar("db_max", hi)])
        g.renameLastOutput(to: "mel")
        g.output("mel", .float, ["batch", c.frames, c.n_mels])
        return g.model(docString: "bsq-audio decoder: codes [batch, time_patches, freq_patches] -> mel [batch, frames, n_mels] in dB",
                       metadata: metadata)
    }

    // MARK: layers

    func stack(_ g: inout ONNXGraph, _ x: String, _ s: TransformerStack) -> String {
        var h = g.layerNorm(x, s.lnPre, w)
        for b in s.blocks { h = block(&g, h, b) }
        return g.layerNorm(h, s.lnPost, w)
    }

    func block(_ g: inout ONNXGraph, _ x: String, _ b: TransformerBlock) -> String {
        var h = g.node("Add", [x, attention(&g, g.layerNorm(x, b.ln1, w), b.attn)])
        if let conv = b.conv { h = g.node("Add", [h, convolution(&g, h, conv)]) }
        let y = g.gelu(g.dense(g.layerNorm(h, b.ln2, w), b.fc, w))
        return g.node("Add", [h, g.dense(y, b.proj, w)])
    }

    func attention(_ g: inout ONNXGraph, _ y: String, _ a: SelfAttention) -> String {
        let width = a.width, heads = a.heads, d = width / heads, N = a.tokens
        let qkv = g.nodes("Split", [g.dense(y, a.inProj, w), g.int64s("qkv_split", [Int64(width), Int64(width), Int64(width)])],
                          [Attribute.int("axis", -1)], outputs: 3)
        let split = g.int64s("heads", [0, Int64(N), Int64(heads), Int64(d)])
        let q = g.node("Transpose", [g.node("Reshape", [qkv[0], split])], [Attribute.ints("perm", [0, 2, 1, 3])])
        let kT = g.node("Transpose", [g.node("Reshape", [qkv[1], split])], [Attribute.ints("perm", [0, 2, 3, 1])])
        let v = g.node("Transpose", [g.node("Reshape", [qkv[2], split])], [Attribute.ints("perm", [0, 2, 1, 3])])
        let logits = g.node("Mul", [g.node("MatMul", [q, kT]), g.scalar("inv_sqrt_d", Float(1 / Double(d).squareRoot()))])
        let o = g.node("MatMul", [g.node("Softmax", [logits], [Attribute.int("axis", -1)]), v])
        let merged = g.node("Reshape", [g.node("Transpose", [o], [Attribute.ints("perm", [0, 2, 1, 3])]),
                                        g.int64s("merge_heads", [0, Int64(N), Int64(width)])])
        return g.dense(merged, a.outProj, w)
    }

    /// The Conformer module; the depthwise convolution runs over each
    /// (chunk, band) row of nt time steps as a grouped Conv with BatchNorm.
    func convolution(_ g: inout ONNXGraph, _ x: String, _ m: ConvModule) -> String {
        let width = c.width, nt = c.nt, nf = c.nf, K = c.conv_kernel
        let pw = g.nodes("Split", [g.dense(g.layerNorm(x, m.norm, w), m.pointwise1, w), g.int64s("glu_split", [Int64(width), Int64(width)])],
                         [Attribute.int("axis", -1)], outputs: 2)
        let glu = g.node("Mul", [pw[0], g.node("Sigmoid", [pw[1]])])
        // [batch, N, w] → [batch·nf, w, nt]
        var a = g.node("Reshape", [glu, g.int64s("time_band", [0, Int64(nt), Int64(nf), Int64(width)])])
        a = g.node("Transpose", [a], [Attribute.ints("perm", [0, 2, 3, 1])])
        a = g.node("Reshape", [a, g.int64s("band_rows", [-1, Int64(width), Int64(nt)])])
        a = g.depthwiseConv(a, weight: m.depthwiseWeight, bias: m.depthwiseBias, channels: width, kernel: K, w)
        a = g.node("BatchNormalization", [a, g.floats(m.bnWeight.name, w.values(m.bnWeight), dims: [width]),
                                          g.floats(m.bnBias.name, w.values(m.bnBias), dims: [width]),
                                          g.floats(m.runningMean.name, w.values(m.runningMean), dims: [width]),
                                          g.floats(m.runningVar.name, w.values(m.runningVar), dims: [width])],
                   [Attribute.float("epsilon", BatchNorm.eps)])
        a = g.node("Mul", [a, g.node("Sigmoid", [a])])
        // back to [batch, N, w]
        a = g.node("Reshape", [a, g.int64s("bands", [-1, Int64(nf), Int64(width), Int64(nt)])])
        a = g.node("Transpose", [a], [Attribute.ints("perm", [0, 3, 1, 2])])
        a = g.node("Reshape", [a, g.int64s("tokens", [0, Int64(c.tokens), Int64(width)])])
        return g.dense(a, m.pointwise2, w)
    }
}

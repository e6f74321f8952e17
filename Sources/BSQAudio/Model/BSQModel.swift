/// The BSQ-ViT forward pass of MODEL.md on a batch of chunks: encoder
/// (patch embedding, positional embedding, pre-norm transformer blocks with
/// an optional Conformer convolution module), BSQ, decoder. Every matmul is
/// an sgemm over all tokens of the batch at once; attention runs per chunk
/// and head, so a chunk's result does not depend on what it is batched with.
public final class BSQModel {
    public let checkpoint: Checkpoint
    public var config: ModelConfig { checkpoint.config }
    private var work: Workspace

    public init(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
        work = Workspace(config: checkpoint.config, batch: 1)
    }

    /// Scratch for `batch` chunks, grown when a larger batch comes.
    final class Workspace {
        let batch: Int
        let h, y, qkv, attn, wide, out, scores: AlignedFloats
        init(config c: ModelConfig, batch: Int) {
            self.batch = batch
            let r = batch * c.tokens, w = c.width
            h = AlignedFloats(count: r * w)
            y = AlignedFloats(count: r * w)
            qkv = AlignedFloats(count: r * 3 * w)
            attn = AlignedFloats(count: r * w)
            wide = AlignedFloats(count: r * max(c.mlp_ratio * w, 2 * w, c.decoder_ffn, c.patchDim, c.embed_dim))
            out = AlignedFloats(count: r * max(w, c.patchDim))
            scores = AlignedFloats(count: c.tokens * c.tokens)
        }
    }

    private func workspace(_ batch: Int) -> Workspace {
        if work.batch < batch { work = Workspace(config: config, batch: batch) }
        return work
    }

    /// Encodes `batch` chunks of dB mel ([batch, frames, n_mels]) into tokens
    /// [batch · tokens]; `u` (optional, [batch · tokens, L]) receives the
    /// normalized pre-quantization vectors.
    public func encode(mel: UnsafePointer<Float>, batch: Int, tokens: UnsafeMutablePointer<UInt64>,
                       u: UnsafeMutablePointer<Float>? = nil) {
        let c = config, ws = workspace(batch), rows = batch * c.tokens, w = c.width
        checkpoint.weights.withUnsafeBufferPointer { wb in
            let p = Weights(base: wb.baseAddress!, layout: checkpoint.layout)
            for b in 0..<batch {
                Patches.patchify(ws.wide.pointer + b * c.tokens * c.patchDim, mel: mel + b * c.frames * c.n_mels, c)
            }
            Linear.forward(ws.h.pointer, ws.wide.pointer, weight: p["encoder.patch_embed.weight"], bias: nil,
                           rows: rows, inDim: c.patchDim, outDim: w)
            addPositional(ws.h.pointer, p["encoder.positional_embedding"], batch: batch)
            LayerNorm.forward(ws.h.pointer, ws.h.pointer, weight: p["encoder.ln_pre.weight"], bias: p["encoder.ln_pre.bias"], rows: rows, cols: w)
            for i in 0..<c.layers { block(p, "encoder.blocks.\(i)", ws, batch: batch) }
            LayerNorm.forward(ws.y.pointer, ws.h.pointer, weight: p["encoder.ln_post.weight"], bias: p["encoder.ln_post.bias"], rows: rows, cols: w)
            Linear.forward(ws.wide.pointer, ws.y.pointer, weight: p["quant_embed.weight"], bias: p["quant_embed.bias"],
                           rows: rows, inDim: w, outDim: c.embed_dim)
            BSQQuantizer.quantize(ws.wide.pointer, rows: rows, bits: c.embed_dim, tokens: tokens)
            u?.update(from: ws.wide.pointer, count: rows * c.embed_dim)
        }
    }

    /// Decodes tokens [batch · tokens] into dB mel [batch, frames, n_mels].
    public func decode(tokens: UnsafePointer<UInt64>, batch: Int, mel: UnsafeMutablePointer<Float>) {
        let c = config, ws = workspace(batch), rows = batch * c.tokens, w = c.width
        checkpoint.weights.withUnsafeBufferPointer { wb in
            let p = Weights(base: wb.baseAddress!, layout: checkpoint.layout)
            BSQQuantizer.codebookVectors(ws.wide.pointer, tokens: tokens, rows: rows, bits: c.embed_dim)
            Linear.forward(ws.h.pointer, ws.wide.pointer, weight: p["post_quant_embed.weight"], bias: p["post_quant_embed.bias"],
                           rows: rows, inDim: c.embed_dim, outDim: w)
            addPositional(ws.h.pointer, p["decoder.positional_embedding"], batch: batch)
            LayerNorm.forward(ws.h.pointer, ws.h.pointer, weight: p["decoder.ln_pre.weight"], bias: p["decoder.ln_pre.bias"], rows: rows, cols: w)
            for i in 0..<c.layers { block(p, "decoder.blocks.\(i)", ws, batch: batch) }
            LayerNorm.forward(ws.y.pointer, ws.h.pointer, weight: p["decoder.ln_post.weight"], bias: p["decoder.ln_post.bias"], rows: rows, cols: w)
            Linear.forward(ws.wide.pointer, ws.y.pointer, weight: p["decoder.ffn.weight"], bias: p["decoder.ffn.bias"],
                           rows: rows, inDim: w, outDim: c.decoder_ffn)
            Activations.tanh(ws.wide.pointer, count: rows * c.decoder_ffn)
            Linear.forward(ws.out.pointer, ws.wide.pointer, weight: p["decoder.conv_out.weight"], bias: p["decoder.conv_out.bias"],
                           rows: rows, inDim: c.decoder_ffn, outDim: c.patchDim)
            for b in 0..<batch {
                Patches.unpatchify(mel + b * c.frames * c.n_mels, patches: ws.out.pointer + b * c.tokens * c.patchDim, c)
            }
        }
    }

    private func addPositional(_ h: UnsafeMutablePointer<Float>, _ pos: UnsafePointer<Float>, batch: Int) {
        let n = config.tokens * config.width
        for b in 0..<batch {
            let hb = h + b * n
            for i in 0..<n { hb[i] += pos[i] }
        }
    }

    /// One pre-norm block: h += Attn(LN₁ h); h += Conv(h); h += MLP(LN₂ h).
    private func block(_ p: Weights, _ k: String, _ ws: Workspace, batch: Int) {
        let c = config, rows = batch * c.tokens, w = c.width
        let h = ws.h.pointer, y = ws.y.pointer
        LayerNorm.forward(y, h, weight: p[k + ".ln_1.weight"], bias: p[k + ".ln_1.bias"], rows: rows, cols: w)
        Linear.forward(ws.qkv.pointer, y, weight: p[k + ".attn.in_proj_weight"], bias: p[k + ".attn.in_proj_bias"],
                       rows: rows, inDim: w, outDim: 3 * w)
        Attention.forward(ws.attn.pointer, qkv: ws.qkv.pointer, scores: ws.scores.pointer,
                          sequences: batch, tokens: c.tokens, width: w, heads: c.heads)
        Linear.forward(y, ws.attn.pointer, weight: p[k + ".attn.out_proj.weight"], bias: p[k + ".attn.out_proj.bias"],
                       rows: rows, inDim: w, outDim: w)
        add(h, y, rows * w)
        if c.conv_module {
            LayerNorm.forward(y, h, weight: p[k + ".conv.norm.weight"], bias: p[k + ".conv.norm.bias"], rows: rows, cols: w)
            Linear.forward(ws.wide.pointer, y, weight: p[k + ".conv.pointwise_conv1.weight"], bias: p[k + ".conv.pointwise_conv1.bias"],
                           rows: rows, inDim: w, outDim: 2 * w)
            Activations.glu(ws.attn.pointer, ws.wide.pointer, rows: rows, cols: w)
            DepthwiseTimeConv.forward(y, ws.attn.pointer, weight: p[k + ".conv.depthwise_conv.weight"], bias: p[k + ".conv.depthwise_conv.bias"],
                                      sequences: batch, nt: c.nt, nf: c.nf, channels: w, kernel: c.conv_kernel)
            BatchNorm.inference(y, rows: rows, channels: w,
                                weight: p[k + ".conv.batch_norm.weight"], bias: p[k + ".conv.batch_norm.bias"],
                                mean: p[k + ".conv.batch_norm.running_mean"], variance: p[k + ".conv.batch_norm.running_var"])
            Activations.silu(y, count: rows * w)
            Linear.forward(ws.attn.pointer, y, weight: p[k + ".conv.pointwise_conv2.weight"], bias: p[k + ".conv.pointwise_conv2.bias"],
                           rows: rows, inDim: w, outDim: w)
            add(h, ws.attn.pointer, rows * w)
        }
        LayerNorm.forward(y, h, weight: p[k + ".ln_2.weight"], bias: p[k + ".ln_2.bias"], rows: rows, cols: w)
        Linear.forward(ws.wide.pointer, y, weight: p[k + ".mlp.c_fc.weight"], bias: p[k + ".mlp.c_fc.bias"],
                       rows: rows, inDim: w, outDim: c.mlp_ratio * w)
        Activations.gelu(ws.wide.pointer, count: rows * c.mlp_ratio * w)
        Linear.forward(y, ws.wide.pointer, weight: p[k + ".mlp.c_proj.weight"], bias: p[k + ".mlp.c_proj.bias"],
                       rows: rows, inDim: c.mlp_ratio * w, outDim: w)
        add(h, y, rows * w)
    }

    private func add(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { a[i] += b[i] }
    }
}

/// Named read-only views into the flat weight buffer.
struct Weights {
    let base: UnsafePointer<Float>
    let layout: ParameterLayout
    subscript(_ name: String) -> UnsafePointer<Float> { base + layout.offset(name) }
}

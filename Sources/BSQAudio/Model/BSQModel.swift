/// The BSQ-ViT forward pass of MODEL.md on a batch of chunks: encoder
/// (patch embedding, positional embedding, pre-norm transformer blocks with
/// an optional Conformer convolution module), BSQ, decoder.
///
/// Work is split into fixed pieces: row blocks of `blockRows` tokens for the
/// per-token layers (each block one sgemm per weight), (chunk, head) pairs for
/// attention, (chunk, frequency band) pairs for the time convolution. The pieces run on `threads`
/// workers with OpenBLAS pinned to one thread, so every number a chunk gets is
/// computed by the same calls whatever the batch size or the thread count.
public final class BSQModel {
    public let checkpoint: Checkpoint
    public var config: ModelConfig { checkpoint.config }
    public let threads: Int
    /// Tokens per row block (a divisor of the tokens of a chunk).
    public let blockRows: Int
    private var work: Workspace

    public init(_ checkpoint: Checkpoint, threads: Int = 1) {
        self.checkpoint = checkpoint
        self.threads = max(1, threads)
        let n = checkpoint.config.tokens
        blockRows = n % 256 == 0 ? 256 : n % 128 == 0 ? 128 : n
        work = Workspace(config: checkpoint.config, batch: 1, threads: self.threads)
        BLAS.setThreads(1)
    }

    /// Scratch for `batch` chunks, grown when a larger batch comes.
    final class Workspace {
        let batch: Int
        let h, y, qkv, attn, wide, out: AlignedFloats
        let scores: [AlignedFloats]
        init(config c: ModelConfig, batch: Int, threads: Int) {
            self.batch = batch
            let r = batch * c.tokens, w = c.width
            h = AlignedFloats(count: r * w)
            y = AlignedFloats(count: r * w)
            qkv = AlignedFloats(count: r * 3 * w)
            attn = AlignedFloats(count: r * w)
            wide = AlignedFloats(count: r * max(c.mlp_ratio * w, 2 * w, c.decoder_ffn, c.patchDim, c.embed_dim))
            out = AlignedFloats(count: r * max(w, c.patchDim))
            scores = (0..<threads).map { _ in AlignedFloats(count: c.tokens * c.tokens) }
        }
    }

    private func workspace(_ batch: Int) -> Workspace {
        if work.batch < batch { work = Workspace(config: config, batch: batch, threads: threads) }
        return work
    }

    /// Runs `body(firstRow, rowCount)` for every row block of `rows`, in parallel.
    private func blocks(_ rows: Int, _ body: (Int, Int) -> Void) {
        let n = (rows + blockRows - 1) / blockRows
        Parallel.forEach(n, threads: threads) { i, _ in body(i * blockRows, min(blockRows, rows - i * blockRows)) }
    }

    /// Encodes `batch` chunks of dB mel ([batch, frames, n_mels]) into tokens
    /// [batch · tokens]; `u` (optional, [batch · tokens, L]) receives the
    /// normalized pre-quantization vectors.
    public func encode(mel: UnsafePointer<Float>, batch: Int, tokens: UnsafeMutablePointer<UInt64>,
                       u: UnsafeMutablePointer<Float>? = nil) {
        let c = config, ws = workspace(batch), rows = batch * c.tokens, w = c.width, L = c.embed_dim
        checkpoint.withSlotPointers { slots in
            let p = Weights(slots: slots, layout: checkpoint.layout)
            Parallel.forEach(batch, threads: threads) { b, _ in
                Patches.patchify(ws.wide.pointer + b * c.tokens * c.patchDim, mel: mel + b * c.frames * c.n_mels, c)
            }
            blocks(rows) { r0, n in
                let h = ws.h.pointer + r0 * w
                Linear.forward(h, ws.wide.pointer + r0 * c.patchDim, weight: p["encoder.patch_embed.weight"], bias: nil,
                               rows: n, inDim: c.patchDim, outDim: w)
                let pos = p["encoder.positional_embedding"]
                for r in 0..<n { Vector.add(h + r * w, pos + ((r0 + r) % c.tokens) * w, w) }
                LayerNorm.forward(h, h, weight: p["encoder.ln_pre.weight"], bias: p["encoder.ln_pre.bias"], rows: n, cols: w)
            }
            for i in 0..<c.layers { block(p, "encoder.blocks.\(i)", ws, batch: batch) }
            blocks(rows) { r0, n in
                let y = ws.y.pointer + r0 * w, z = ws.wide.pointer + r0 * L
                LayerNorm.forward(y, ws.h.pointer + r0 * w, weight: p["encoder.ln_post.weight"], bias: p["encoder.ln_post.bias"], rows: n, cols: w)
                Linear.forward(z, y, weight: p["quant_embed.weight"], bias: p["quant_embed.bias"], rows: n, inDim: w, outDim: L)
                BSQQuantizer.quantize(z, rows: n, bits: L, tokens: tokens + r0)
            }
            u?.update(from: ws.wide.pointer, count: rows * L)
        }
    }

    /// Decodes tokens [batch · tokens] into dB mel [batch, frames, n_mels].
    public func decode(tokens: UnsafePointer<UInt64>, batch: Int, mel: UnsafeMutablePointer<Float>) {
        let c = config, ws = workspace(batch), rows = batch * c.tokens, w = c.width, L = c.embed_dim
        checkpoint.withSlotPointers { slots in
            let p = Weights(slots: slots, layout: checkpoint.layout)
            blocks(rows) { r0, n in
                let q = ws.wide.pointer + r0 * L, h = ws.h.pointer + r0 * w
                BSQQuantizer.codebookVectors(q, tokens: tokens + r0, rows: n, bits: L)
                Linear.forward(h, q, weight: p["post_quant_embed.weight"], bias: p["post_quant_embed.bias"], rows: n, inDim: L, outDim: w)
                let pos = p["decoder.positional_embedding"]
                for r in 0..<n { Vector.add(h + r * w, pos + ((r0 + r) % c.tokens) * w, w) }
                LayerNorm.forward(h, h, weight: p["decoder.ln_pre.weight"], bias: p["decoder.ln_pre.bias"], rows: n, cols: w)
            }
            for i in 0..<c.layers { block(p, "decoder.blocks.\(i)", ws, batch: batch) }
            blocks(rows) { r0, n in
                let y = ws.y.pointer + r0 * w, f = ws.wide.pointer + r0 * c.decoder_ffn
                LayerNorm.forward(y, ws.h.pointer + r0 * w, weight: p["decoder.ln_post.weight"], bias: p["decoder.ln_post.bias"], rows: n, cols: w)
                Linear.forward(f, y, weight: p["decoder.ffn.weight"], bias: p["decoder.ffn.bias"], rows: n, inDim: w, outDim: c.decoder_ffn)
                Activations.tanh(f, count: n * c.decoder_ffn)
                Linear.forward(ws.out.pointer + r0 * c.patchDim, f, weight: p["decoder.conv_out.weight"], bias: p["decoder.conv_out.bias"],
                               rows: n, inDim: c.decoder_ffn, outDim: c.patchDim)
            }
            Parallel.forEach(batch, threads: threads) { b, _ in
                Patches.unpatchify(mel + b * c.frames * c.n_mels, patches: ws.out.pointer + b * c.tokens * c.patchDim, c)
            }
        }
    }

    /// One pre-norm block: h += Attn(LN₁ h); h += Conv(h); h += MLP(LN₂ h).
    private func block(_ p: Weights, _ k: String, _ ws: Workspace, batch: Int) {
        let c = config, rows = batch * c.tokens, w = c.width, hidden = c.mlp_ratio * w
        blocks(rows) { r0, n in
            let y = ws.y.pointer + r0 * w
            LayerNorm.forward(y, ws.h.pointer + r0 * w, weight: p[k + ".ln_1.weight"], bias: p[k + ".ln_1.bias"], rows: n, cols: w)
            Linear.forward(ws.qkv.pointer + r0 * 3 * w, y, weight: p[k + ".attn.in_proj_weight"], bias: p[k + ".attn.in_proj_bias"],
                           rows: n, inDim: w, outDim: 3 * w)
        }
        Parallel.forEach(batch * c.heads, threads: threads) { task, worker in
            Attention.forward(ws.attn.pointer, qkv: ws.qkv.pointer, scores: ws.scores[worker].pointer,
                              sequence: task / c.heads, head: task % c.heads, tokens: c.tokens, width: w, heads: c.heads)
        }
        blocks(rows) { r0, n in
            let h = ws.h.pointer + r0 * w, y = ws.y.pointer + r0 * w
            Linear.forward(y, ws.attn.pointer + r0 * w, weight: p[k + ".attn.out_proj.weight"], bias: p[k + ".attn.out_proj.bias"],
                           rows: n, inDim: w, outDim: w)
            Vector.add(h, y, n * w)
            if c.conv_module {
                LayerNorm.forward(y, h, weight: p[k + ".conv.norm.weight"], bias: p[k + ".conv.norm.bias"], rows: n, cols: w)
                let g = ws.wide.pointer + r0 * 2 * w
                Linear.forward(g, y, weight: p[k + ".conv.pointwise_conv1.weight"], bias: p[k + ".conv.pointwise_conv1.bias"],
                               rows: n, inDim: w, outDim: 2 * w)
                Activations.glu(ws.attn.pointer + r0 * w, g, rows: n, cols: w)
            }
        }
        if c.conv_module {
            Parallel.forEach(batch * c.nf, threads: threads) { task, _ in
                let off = (task / c.nf) * c.tokens * w, band = task % c.nf
                DepthwiseTimeConv.forward(ws.y.pointer + off, ws.attn.pointer + off,
                                          weight: p[k + ".conv.depthwise_conv.weight"], bias: p[k + ".conv.depthwise_conv.bias"],
                                          sequences: 1, nt: c.nt, nf: c.nf, channels: w, kernel: c.conv_kernel, bands: band..<(band + 1))
            }
        }
        blocks(rows) { r0, n in
            let h = ws.h.pointer + r0 * w, y = ws.y.pointer + r0 * w, a = ws.attn.pointer + r0 * w
            if c.conv_module {
                BatchNorm.inference(y, rows: n, channels: w,
                                    weight: p[k + ".conv.batch_norm.weight"], bias: p[k + ".conv.batch_norm.bias"],
                                    mean: p[k + ".conv.batch_norm.running_mean"], variance: p[k + ".conv.batch_norm.running_var"])
                Activations.silu(y, count: n * w)
                Linear.forward(a, y, weight: p[k + ".conv.pointwise_conv2.weight"], bias: p[k + ".conv.pointwise_conv2.bias"],
                               rows: n, inDim: w, outDim: w)
                Vector.add(h, a, n * w)
            }
            let f = ws.wide.pointer + r0 * hidden
            LayerNorm.forward(y, h, weight: p[k + ".ln_2.weight"], bias: p[k + ".ln_2.bias"], rows: n, cols: w)
            Linear.forward(f, y, weight: p[k + ".mlp.c_fc.weight"], bias: p[k + ".mlp.c_fc.bias"], rows: n, inDim: w, outDim: hidden)
            Activations.gelu(f, count: n * hidden)
            Linear.forward(y, f, weight: p[k + ".mlp.c_proj.weight"], bias: p[k + ".mlp.c_proj.bias"], rows: n, inDim: hidden, outDim: w)
            Vector.add(h, y, n * w)
        }
    }
}

/// Named read-only views into the flat weight buffer.
struct Weights {
    let slots: [UnsafePointer<Float>]
    let layout: ParameterLayout
    subscript(_ name: String) -> UnsafePointer<Float> { slots[layout.index(name)] }
}

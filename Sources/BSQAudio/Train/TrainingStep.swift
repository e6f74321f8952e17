import Foundation

/// One training step of MODEL.md on a batch of chunks: the forward pass with
/// every activation the backward needs kept (BatchNorm on batch statistics,
/// running statistics updated in the parameters), the loss, and the gradient
/// of the loss for every parameter, in the parameter layout. Each layer's
/// backward mirrors its forward (llm.c style); matrix products are sgemms
/// over all tokens of the batch.
public final class TrainingStep {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public var loss: BSQLoss
    /// Pass the decoder's gradient through the quantizer to u (BSQ-ViT's
    /// straight-through estimator, ∂q/∂u = 1/√L); off only for gradient checks.
    public var straightThrough = true
    let batch: Int
    var rows: Int { batch * config.tokens }

    /// Activations of one transformer block.
    final class BlockCache {
        let x0, ln1, qkv, attn, x1, cln, pw1, glu, dw, bn, silu, x2, ln2, fc, gelu: [Float]
        let probs: [Float]
        let ln1Stats, clnStats, ln2Stats: ([Float], [Float])
        let bnStats: ([Float], [Float])
        init(x0: [Float], ln1: [Float], qkv: [Float], attn: [Float], x1: [Float], cln: [Float], pw1: [Float], glu: [Float],
             dw: [Float], bn: [Float], silu: [Float], x2: [Float], ln2: [Float], fc: [Float], gelu: [Float], probs: [Float],
             ln1Stats: ([Float], [Float]), clnStats: ([Float], [Float]), ln2Stats: ([Float], [Float]), bnStats: ([Float], [Float])) {
            self.x0 = x0; self.ln1 = ln1; self.qkv = qkv; self.attn = attn; self.x1 = x1; self.cln = cln; self.pw1 = pw1
            self.glu = glu; self.dw = dw; self.bn = bn; self.silu = silu; self.x2 = x2; self.ln2 = ln2; self.fc = fc
            self.gelu = gelu; self.probs = probs; self.ln1Stats = ln1Stats; self.clnStats = clnStats; self.ln2Stats = ln2Stats
            self.bnStats = bnStats
        }
    }

    public init(config: ModelConfig, batch: Int) {
        self.config = config
        layout = ParameterLayout(config)
        loss = BSQLoss(config)
        self.batch = batch
    }

    public struct Result: Sendable {
        public var total = 0.0, l1 = 0.0
        public var quantizer = BSQLoss.QuantizerTerms()
        public var lambdaQ = 0.0
        public var tokens: [UInt64] = []
    }

    /// Runs forward and backward on `mel` [batch, frames, n_mels] (dB);
    /// writes ∂loss/∂params into `grads` (overwritten) and updates the
    /// BatchNorm running statistics inside `params`.
    public func run(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>,
                    mel: UnsafePointer<Float>, step: Int) -> Result {
        let c = config, R = rows, w = c.width, L = c.embed_dim, pd = c.patchDim, n = c.tokens
        grads.initialize(repeating: 0, count: layout.count)
        func P(_ k: String) -> UnsafeMutablePointer<Float> { params + layout.offset(k) }
        func G(_ k: String) -> UnsafeMutablePointer<Float> { grads + layout.offset(k) }
        var result = Result()

        // ---- encoder
        var x = [Float](repeating: 0, count: R * pd)
        for b in 0..<batch { Patches.patchify(&x[b * n * pd], mel: mel + b * c.frames * c.n_mels, c) }
        var h = [Float](repeating: 0, count: R * w)
        Linear.forward(&h, x, weight: P("encoder.patch_embed.weight"), bias: nil, rows: R, inDim: pd, outDim: w)
        let enc = stackForward(h, "encoder", P)
        let y = enc.out
        var z = [Float](repeating: 0, count: R * L)
        Linear.forward(&z, y, weight: P("quant_embed.weight"), bias: P("quant_embed.bias"), rows: R, inDim: w, outDim: L)

        // ---- quantizer (straight through: q = sign(u)/√L, ∂q/∂u = 1/√L)
        var u = z
        result.tokens = [UInt64](repeating: 0, count: R)
        BSQQuantizer.quantize(&u, rows: R, bits: L, tokens: &result.tokens)
        var q = [Float](repeating: 0, count: R * L)
        BSQQuantizer.codebookVectors(&q, tokens: result.tokens, rows: R, bits: L)

        // ---- decoder
        var g = [Float](repeating: 0, count: R * w)
        Linear.forward(&g, q, weight: P("post_quant_embed.weight"), bias: P("post_quant_embed.bias"), rows: R, inDim: L, outDim: w)
        let dec = stackForward(g, "decoder", P)
        let dy0 = dec.out
        var f = [Float](repeating: 0, count: R * c.decoder_ffn)
        Linear.forward(&f, dy0, weight: P("decoder.ffn.weight"), bias: P("decoder.ffn.bias"), rows: R, inDim: w, outDim: c.decoder_ffn)
        Activations.tanh(&f, count: f.count)
        var out = [Float](repeating: 0, count: R * pd)
        Linear.forward(&out, f, weight: P("decoder.conv_out.weight"), bias: P("decoder.conv_out.bias"), rows: R, inDim: c.decoder_ffn, outDim: pd)

        // ---- loss (L1 in the normalized patch space equals L1 over the un-patchified mel)
        var dout = [Float](repeating: 0, count: R * pd)
        result.l1 = BSQLoss.l1(out, x, count: R * pd, dy: &dout)
        var du = [Float](repeating: 0, count: R * L)
        result.quantizer = loss.quantizer(u, tokens: R, du: &du)
        result.lambdaQ = loss.lambdaQ(step: step)
        result.total = result.l1 + result.lambdaQ * result.quantizer.lq
        for i in du.indices { du[i] *= Float(result.lambdaQ) }

        // ---- decoder backward
        var df = [Float](repeating: 0, count: f.count)
        Linear.backward(dx: &df, dweight: G("decoder.conv_out.weight"), dbias: G("decoder.conv_out.bias"), dout: dout, x: f,
                        weight: P("decoder.conv_out.weight"), rows: R, inDim: c.decoder_ffn, outDim: pd)
        var dfPre = [Float](repeating: 0, count: f.count)
        Activations.tanhBackward(dx: &dfPre, dout: df, y: f, count: f.count)
        var ddy0 = [Float](repeating: 0, count: R * w)
        Linear.backward(dx: &ddy0, dweight: G("decoder.ffn.weight"), dbias: G("decoder.ffn.bias"), dout: dfPre, x: dy0,
                        weight: P("decoder.ffn.weight"), rows: R, inDim: w, outDim: c.decoder_ffn)
        let dgPre = stackBackward(ddy0, "decoder", dec, P, G)
        var dq = [Float](repeating: 0, count: R * L)
        Linear.backward(dx: &dq, dweight: G("post_quant_embed.weight"), dbias: G("post_quant_embed.bias"), dout: dgPre, x: q,
                        weight: P("post_quant_embed.weight"), rows: R, inDim: L, outDim: w)
        let ste = straightThrough ? 1 / Float(L).squareRoot() : 0
        for i in du.indices { du[i] += dq[i] * ste }
        var dz = [Float](repeating: 0, count: R * L)
        BSQLoss.normalizeBackward(dz: &dz, du: du, z: z, tokens: R, bits: L)

        // ---- encoder backward
        var dyE = [Float](repeating: 0, count: R * w)
        Linear.backward(dx: &dyE, dweight: G("quant_embed.weight"), dbias: G("quant_embed.bias"), dout: dz, x: y,
                        weight: P("quant_embed.weight"), rows: R, inDim: w, outDim: L)
        let dhPre = stackBackward(dyE, "encoder", enc, P, G)
        Linear.backward(dx: nil, dweight: G("encoder.patch_embed.weight"), dbias: nil, dout: dhPre, x: x,
                        weight: P("encoder.patch_embed.weight"), rows: R, inDim: pd, outDim: w)
        return result
    }

    /// A transformer stack's activations: the input of ln_pre, the blocks', the input of ln_post.
    struct StackCache {
        let pre: [Float], preStats: ([Float], [Float])
        let blocks: [BlockCache]
        let post: [Float], postStats: ([Float], [Float])
        let out: [Float]
    }

    /// out = ln_post(blocks(ln_pre(h + positional_embedding))) of the encoder or the decoder.
    private func stackForward(_ input: [Float], _ stack: String, _ P: (String) -> UnsafeMutablePointer<Float>) -> StackCache {
        let R = rows, w = config.width
        var pre = input
        addPositional(&pre, P(stack + ".positional_embedding"))
        var preStats = stats(R), postStats = stats(R)
        var h = [Float](repeating: 0, count: R * w)
        LayerNorm.forward(&h, pre, weight: P(stack + ".ln_pre.weight"), bias: P(stack + ".ln_pre.bias"), rows: R, cols: w,
                          mean: &preStats.0, rstd: &preStats.1)
        var caches: [BlockCache] = []
        for i in 0..<config.layers { caches.append(blockForward(&h, "\(stack).blocks.\(i)", P)) }
        var out = [Float](repeating: 0, count: R * w)
        LayerNorm.forward(&out, h, weight: P(stack + ".ln_post.weight"), bias: P(stack + ".ln_post.bias"), rows: R, cols: w,
                          mean: &postStats.0, rstd: &postStats.1)
        return StackCache(pre: pre, preStats: preStats, blocks: caches, post: h, postStats: postStats, out: out)
    }

    /// The gradient at a stack's input from the gradient at its output; parameter gradients accumulated.
    private func stackBackward(_ dout: [Float], _ stack: String, _ cache: StackCache,
                               _ P: (String) -> UnsafeMutablePointer<Float>, _ G: (String) -> UnsafeMutablePointer<Float>) -> [Float] {
        let R = rows, w = config.width
        var dh = [Float](repeating: 0, count: R * w)
        LayerNorm.backward(dx: &dh, dweight: G(stack + ".ln_post.weight"), dbias: G(stack + ".ln_post.bias"), dout: dout, x: cache.post,
                           weight: P(stack + ".ln_post.weight"), mean: cache.postStats.0, rstd: cache.postStats.1, rows: R, cols: w)
        for i in (0..<config.layers).reversed() { blockBackward(&dh, "\(stack).blocks.\(i)", cache.blocks[i], P, G) }
        var dpre = [Float](repeating: 0, count: R * w)
        LayerNorm.backward(dx: &dpre, dweight: G(stack + ".ln_pre.weight"), dbias: G(stack + ".ln_pre.bias"), dout: dh, x: cache.pre,
                           weight: P(stack + ".ln_pre.weight"), mean: cache.preStats.0, rstd: cache.preStats.1, rows: R, cols: w)
        addPositionalGrad(G(stack + ".positional_embedding"), dpre)
        return dpre
    }

    private func stats(_ r: Int) -> ([Float], [Float]) { ([Float](repeating: 0, count: r), [Float](repeating: 0, count: r)) }

    private func addPositional(_ h: inout [Float], _ pos: UnsafePointer<Float>) {
        let n = config.tokens * config.width
        for b in 0..<batch { for i in 0..<n { h[b * n + i] += pos[i] } }
    }

    private func addPositionalGrad(_ dpos: UnsafeMutablePointer<Float>, _ dh: [Float]) {
        let n = config.tokens * config.width
        for b in 0..<batch { for i in 0..<n { dpos[i] += dh[b * n + i] } }
    }

    /// h ← block(h), keeping what the backward needs.
    private func blockForward(_ h: inout [Float], _ k: String, _ P: (String) -> UnsafeMutablePointer<Float>) -> BlockCache {
        let c = config, R = rows, w = c.width, hid = c.mlp_ratio * w, N = c.tokens
        let x0 = h
        var s1 = stats(R), sc = stats(R), s2 = stats(R)
        var ln1 = [Float](repeating: 0, count: R * w)
        LayerNorm.forward(&ln1, x0, weight: P(k + ".ln_1.weight"), bias: P(k + ".ln_1.bias"), rows: R, cols: w, mean: &s1.0, rstd: &s1.1)
        var qkv = [Float](repeating: 0, count: R * 3 * w)
        Linear.forward(&qkv, ln1, weight: P(k + ".attn.in_proj_weight"), bias: P(k + ".attn.in_proj_bias"), rows: R, inDim: w, outDim: 3 * w)
        var attn = [Float](repeating: 0, count: R * w), scores = [Float](repeating: 0, count: N * N)
        var probs = [Float](repeating: 0, count: batch * c.heads * N * N)
        for s in 0..<batch {
            for hd in 0..<c.heads {
                probs.withUnsafeMutableBufferPointer { pb in
                    Attention.forward(&attn, qkv: qkv, scores: &scores, sequence: s, head: hd, tokens: N, width: w, heads: c.heads,
                                      probabilities: pb.baseAddress! + (s * c.heads + hd) * N * N)
                }
            }
        }
        var tmp = [Float](repeating: 0, count: R * w)
        Linear.forward(&tmp, attn, weight: P(k + ".attn.out_proj.weight"), bias: P(k + ".attn.out_proj.bias"), rows: R, inDim: w, outDim: w)
        for i in h.indices { h[i] += tmp[i] }
        let x1 = h
        var cln: [Float] = [], pw1: [Float] = [], glu: [Float] = [], dw: [Float] = [], bn: [Float] = [], silu: [Float] = []
        var bnStats = ([Float](repeating: 0, count: w), [Float](repeating: 0, count: w))
        if c.conv_module {
            cln = [Float](repeating: 0, count: R * w)
            LayerNorm.forward(&cln, x1, weight: P(k + ".conv.norm.weight"), bias: P(k + ".conv.norm.bias"), rows: R, cols: w, mean: &sc.0, rstd: &sc.1)
            pw1 = [Float](repeating: 0, count: R * 2 * w)
            Linear.forward(&pw1, cln, weight: P(k + ".conv.pointwise_conv1.weight"), bias: P(k + ".conv.pointwise_conv1.bias"), rows: R, inDim: w, outDim: 2 * w)
            glu = [Float](repeating: 0, count: R * w)
            Activations.glu(&glu, pw1, rows: R, cols: w)
            dw = [Float](repeating: 0, count: R * w)
            DepthwiseTimeConv.forward(&dw, glu, weight: P(k + ".conv.depthwise_conv.weight"), bias: P(k + ".conv.depthwise_conv.bias"),
                                      sequences: batch, nt: c.nt, nf: c.nf, channels: w, kernel: c.conv_kernel)
            bn = [Float](repeating: 0, count: R * w)
            BatchNorm.training(&bn, dw, rows: R, channels: w, weight: P(k + ".conv.batch_norm.weight"), bias: P(k + ".conv.batch_norm.bias"),
                               runningMean: P(k + ".conv.batch_norm.running_mean"), runningVariance: P(k + ".conv.batch_norm.running_var"),
                               mean: &bnStats.0, rstd: &bnStats.1)
            silu = bn
            Activations.silu(&silu, count: silu.count)
            Linear.forward(&tmp, silu, weight: P(k + ".conv.pointwise_conv2.weight"), bias: P(k + ".conv.pointwise_conv2.bias"), rows: R, inDim: w, outDim: w)
            for i in h.indices { h[i] += tmp[i] }
        }
        let x2 = h
        var ln2 = [Float](repeating: 0, count: R * w)
        LayerNorm.forward(&ln2, x2, weight: P(k + ".ln_2.weight"), bias: P(k + ".ln_2.bias"), rows: R, cols: w, mean: &s2.0, rstd: &s2.1)
        var fc = [Float](repeating: 0, count: R * hid)
        Linear.forward(&fc, ln2, weight: P(k + ".mlp.c_fc.weight"), bias: P(k + ".mlp.c_fc.bias"), rows: R, inDim: w, outDim: hid)
        var gelu = fc
        Activations.gelu(&gelu, count: gelu.count)
        Linear.forward(&tmp, gelu, weight: P(k + ".mlp.c_proj.weight"), bias: P(k + ".mlp.c_proj.bias"), rows: R, inDim: hid, outDim: w)
        for i in h.indices { h[i] += tmp[i] }
        return BlockCache(x0: x0, ln1: ln1, qkv: qkv, attn: attn, x1: x1, cln: cln, pw1: pw1, glu: glu, dw: dw, bn: bn, silu: silu,
                          x2: x2, ln2: ln2, fc: fc, gelu: gelu, probs: probs, ln1Stats: s1, clnStats: sc, ln2Stats: s2, bnStats: bnStats)
    }

    /// dh (gradient at the block's output) ← gradient at its input; parameter gradients accumulated.
    private func blockBackward(_ dh: inout [Float], _ k: String, _ cache: BlockCache,
                               _ P: (String) -> UnsafeMutablePointer<Float>, _ G: (String) -> UnsafeMutablePointer<Float>) {
        let c = config, R = rows, w = c.width, hid = c.mlp_ratio * w, N = c.tokens
        // MLP: h += c_proj(gelu(c_fc(ln_2(h))))
        var dgelu = [Float](repeating: 0, count: R * hid)
        Linear.backward(dx: &dgelu, dweight: G(k + ".mlp.c_proj.weight"), dbias: G(k + ".mlp.c_proj.bias"), dout: dh, x: cache.gelu,
                        weight: P(k + ".mlp.c_proj.weight"), rows: R, inDim: hid, outDim: w)
        var dfc = [Float](repeating: 0, count: R * hid)
        Activations.geluBackward(dx: &dfc, dout: dgelu, x: cache.fc, count: dfc.count)
        var dln2 = [Float](repeating: 0, count: R * w)
        Linear.backward(dx: &dln2, dweight: G(k + ".mlp.c_fc.weight"), dbias: G(k + ".mlp.c_fc.bias"), dout: dfc, x: cache.ln2,
                        weight: P(k + ".mlp.c_fc.weight"), rows: R, inDim: w, outDim: hid)
        LayerNorm.backward(dx: &dh, dweight: G(k + ".ln_2.weight"), dbias: G(k + ".ln_2.bias"), dout: dln2, x: cache.x2,
                           weight: P(k + ".ln_2.weight"), mean: cache.ln2Stats.0, rstd: cache.ln2Stats.1, rows: R, cols: w)
        if c.conv_module {
            // h += pw2(silu(bn(dwconv(glu(pw1(norm(h)))))))
            var dsilu = [Float](repeating: 0, count: R * w)
            Linear.backward(dx: &dsilu, dweight: G(k + ".conv.pointwise_conv2.weight"), dbias: G(k + ".conv.pointwise_conv2.bias"), dout: dh,
                            x: cache.silu, weight: P(k + ".conv.pointwise_conv2.weight"), rows: R, inDim: w, outDim: w)
            var dbn = [Float](repeating: 0, count: R * w)
            Activations.siluBackward(dx: &dbn, dout: dsilu, x: cache.bn, count: dbn.count)
            var ddw = [Float](repeating: 0, count: R * w)
            BatchNorm.trainingBackward(dx: &ddw, dweight: G(k + ".conv.batch_norm.weight"), dbias: G(k + ".conv.batch_norm.bias"), dout: dbn,
                                       x: cache.dw, weight: P(k + ".conv.batch_norm.weight"), mean: cache.bnStats.0, rstd: cache.bnStats.1,
                                       rows: R, channels: w)
            var dglu = [Float](repeating: 0, count: R * w)
            DepthwiseTimeConv.backward(dx: &dglu, dweight: G(k + ".conv.depthwise_conv.weight"), dbias: G(k + ".conv.depthwise_conv.bias"),
                                       dout: ddw, x: cache.glu, weight: P(k + ".conv.depthwise_conv.weight"),
                                       sequences: batch, nt: c.nt, nf: c.nf, channels: w, kernel: c.conv_kernel)
            var dpw1 = [Float](repeating: 0, count: R * 2 * w)
            Activations.gluBackward(dx: &dpw1, dout: dglu, x: cache.pw1, rows: R, cols: w)
            var dcln = [Float](repeating: 0, count: R * w)
            Linear.backward(dx: &dcln, dweight: G(k + ".conv.pointwise_conv1.weight"), dbias: G(k + ".conv.pointwise_conv1.bias"), dout: dpw1,
                            x: cache.cln, weight: P(k + ".conv.pointwise_conv1.weight"), rows: R, inDim: w, outDim: 2 * w)
            LayerNorm.backward(dx: &dh, dweight: G(k + ".conv.norm.weight"), dbias: G(k + ".conv.norm.bias"), dout: dcln, x: cache.x1,
                               weight: P(k + ".conv.norm.weight"), mean: cache.clnStats.0, rstd: cache.clnStats.1, rows: R, cols: w)
        }
        // attention: h += out_proj(attn(qkv(ln_1(h))))
        var dattn = [Float](repeating: 0, count: R * w)
        Linear.backward(dx: &dattn, dweight: G(k + ".attn.out_proj.weight"), dbias: G(k + ".attn.out_proj.bias"), dout: dh, x: cache.attn,
                        weight: P(k + ".attn.out_proj.weight"), rows: R, inDim: w, outDim: w)
        var dqkv = [Float](repeating: 0, count: R * 3 * w), scratch = [Float](repeating: 0, count: N * N)
        for s in 0..<batch {
            for hd in 0..<c.heads {
                cache.probs.withUnsafeBufferPointer { pb in
                    Attention.backward(dqkv: &dqkv, dout: dattn, qkv: cache.qkv, probabilities: pb.baseAddress! + (s * c.heads + hd) * N * N,
                                       scratch: &scratch, sequence: s, head: hd, tokens: N, width: w, heads: c.heads)
                }
            }
        }
        var dln1 = [Float](repeating: 0, count: R * w)
        Linear.backward(dx: &dln1, dweight: G(k + ".attn.in_proj_weight"), dbias: G(k + ".attn.in_proj_bias"), dout: dqkv, x: cache.ln1,
                        weight: P(k + ".attn.in_proj_weight"), rows: R, inDim: w, outDim: 3 * w)
        LayerNorm.backward(dx: &dh, dweight: G(k + ".ln_1.weight"), dbias: G(k + ".ln_1.bias"), dout: dln1, x: cache.x0,
                           weight: P(k + ".ln_1.weight"), mean: cache.ln1Stats.0, rstd: cache.ln1Stats.1, rows: R, cols: w)
    }
}

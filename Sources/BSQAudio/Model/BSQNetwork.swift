/// The BSQ-ViT of docs/model.md as a tree of typed layers whose parameter
/// names are the checkpoint keys: the patch embedding and the encoder's
/// transformer, the quantizer's projections, the decoder's transformer and
/// its head. Loading, saving and initialising a model are walks over
/// `layout`, which the tree builds; `encode` and `decode` are the one forward
/// pass that inference, validation and training all run.
public struct BSQNetwork: Sendable {
    public let config: ModelConfig
    public let patchEmbed: Dense
    /// `encoder.mask_token` [width], in models made for masked pre-training.
    public let maskToken: Parameter?
    public let encoder: TransformerStack
    public let quantEmbed: Dense
    public let postQuantEmbed: Dense
    public let decoder: TransformerStack
    public let ffn: Dense
    public let convOut: Dense
    public let layout: ParameterLayout

    public init(_ c: ModelConfig) {
        config = c
        var p = ParameterBuilder()
        (patchEmbed, maskToken, encoder) = p.scope("encoder") {
            (Dense(&$0, in: c.patchDim, out: c.width, bias: false, weightName: "patch_embed.weight"),
             c.hasMaskToken ? $0.tensor("mask_token", [c.width], .normal(0.02)) : nil, TransformerStack(&$0, c))
        }
        quantEmbed = p.scope("quant_embed") { Dense(&$0, in: c.width, out: c.embed_dim) }
        postQuantEmbed = p.scope("post_quant_embed") { Dense(&$0, in: c.embed_dim, out: c.width) }
        (decoder, ffn, convOut) = p.scope("decoder") { d in
            (TransformerStack(&d, c), d.scope("ffn") { Dense(&$0, in: c.width, out: c.decoder_ffn) },
             d.scope("conv_out") { Dense(&$0, in: c.decoder_ffn, out: c.patchDim) })
        }
        layout = ParameterLayout(p.parameters)
    }

    /// The encoder's activations: normalized patches `x` [rows, pt·pf], the
    /// transformer's cache, the projection `z` [rows, L] and its normalized
    /// form `u`, and the tokens.
    public struct EncoderCache {
        public var x: UnsafeMutablePointer<Float>
        public var stack: TransformerStack.Cache
        public var z: UnsafeMutablePointer<Float>
        public var u: UnsafeMutablePointer<Float>
        var mask: UnsafePointer<Bool>?
    }

    /// Mel chunks [batch, frames, n_mels] (dB) → tokens [batch · tokens].
    /// With `mask` [batch · tokens] (masked pre-training), the patch
    /// embeddings of the masked tokens are replaced by `encoder.mask_token`
    /// before the positional embedding is added.
    public func encode(_ pass: Pass, mel: UnsafePointer<Float>, tokens: UnsafeMutablePointer<UInt64>,
                       recompute: Bool = false, mask: UnsafePointer<Bool>? = nil) -> EncoderCache {
        let c = config, a = pass.arena, R = pass.rows, L = c.embed_dim
        let x = a.allocate(R * c.patchDim)
        pass.workers.tasks(pass.batch) { b, _ in
            Patches.patchify(x + b * c.tokens * c.patchDim, mel: mel + b * c.frames * c.n_mels, c)
        }
        let h = a.allocate(R * c.width)
        patchEmbed.forward(pass.weights, h, x, on: pass.workers)
        if let mask {
            guard let maskToken else { preconditionFailure("masking needs a model with a mask token") }
            let t = pass.weights[maskToken]
            for r in 0..<R where mask[r] { (h + r * c.width).update(from: t, count: c.width) }
        }
        let stack = encoder.forward(pass, h, recompute: recompute)
        let z = a.allocate(R * L)
        quantEmbed.forward(pass.weights, z, stack.out, on: pass.workers)
        let u = pass.training ? a.allocate(R * L) : z
        pass.workers.rowBlocks { r0, n in
            if u != z { (u + r0 * L).update(from: z + r0 * L, count: n * L) }
            BSQQuantizer.quantize(u + r0 * L, rows: n, bits: L, tokens: tokens + r0)
        }
        return EncoderCache(x: x, stack: stack, z: z, u: u, mask: mask)
    }

    /// The decoder's activations: the code vectors `q` [rows, L], the
    /// transformer's cache, the head's tanh output `f` [rows, decoder_ffn] and
    /// its output `y` [rows, pt·pf] in the normalized space.
    public struct DecoderCache {
        public var q: UnsafeMutablePointer<Float>
        public var stack: TransformerStack.Cache
        public var f: UnsafeMutablePointer<Float>
        public var y: UnsafeMutablePointer<Float>
    }

    /// Tokens [batch · tokens] → normalized patches (`y` of the cache).
    public func decode(_ pass: Pass, tokens: UnsafePointer<UInt64>, recompute: Bool = false) -> DecoderCache {
        let c = config, a = pass.arena, R = pass.rows, L = c.embed_dim
        let q = a.allocate(R * L)
        pass.workers.rowBlocks { r0, n in BSQQuantizer.codebookVectors(q + r0 * L, tokens: tokens + r0, rows: n, bits: L) }
        let g = a.allocate(R * c.width)
        postQuantEmbed.forward(pass.weights, g, q, on: pass.workers)
        let stack = decoder.forward(pass, g, recompute: recompute)
        let f = a.allocate(R * c.decoder_ffn), y = a.allocate(R * c.patchDim)
        pass.workers.rowBlocks { r0, n in
            ffn.forward(pass.weights, f + r0 * c.decoder_ffn, stack.out + r0 * c.width, rows: n)
            Activations.tanh(f + r0 * c.decoder_ffn, count: n * c.decoder_ffn)
            convOut.forward(pass.weights, y + r0 * c.patchDim, f + r0 * c.decoder_ffn, rows: n)
        }
        return DecoderCache(q: q, stack: stack, f: f, y: y)
    }

    /// The decoder's backward from dy [rows, pt·pf]: returns ∂/∂q [rows, L] (from `b.scratch`).
    public func decodeBackward(_ b: Backward, _ d: DecoderCache, dy: UnsafePointer<Float>, recompute: Bool) -> UnsafeMutablePointer<Float> {
        let c = config, R = b.pass.rows, s = b.scratch
        let dfPre = s.zeros(R * c.decoder_ffn)
        convOut.backward(b.w, b.grads, dx: dfPre, dout: dy, x: d.f, on: b.workers)
        b.workers.rowBlocks { r0, n in
            let o = r0 * c.decoder_ffn
            Activations.tanhBackward(dx: dfPre + o, dout: dfPre + o, y: d.f + o, count: n * c.decoder_ffn)
        }
        let dout = s.zeros(R * c.width)
        ffn.backward(b.w, b.grads, dx: dout, dout: dfPre, x: d.stack.out, on: b.workers)
        let dg = decoder.backward(b, d.stack, dout: dout, recompute: recompute)
        let dq = s.zeros(R * c.embed_dim)
        postQuantEmbed.backward(b.w, b.grads, dx: dq, dout: dg, x: d.q, on: b.workers)
        return dq
    }

    /// The encoder's backward from ∂/∂u [rows, L].
    public func encodeBackward(_ b: Backward, _ e: EncoderCache, du: UnsafePointer<Float>, recompute: Bool) {
        let c = config, R = b.pass.rows, s = b.scratch, L = c.embed_dim
        let dz = s.zeros(R * L)
        BSQQuantizer.normalizeBackward(dz: dz, du: du, z: e.z, tokens: R, bits: L)
        let dy = s.zeros(R * c.width)
        quantEmbed.backward(b.w, b.grads, dx: dy, dout: dz, x: e.stack.out, on: b.workers)
        let dh = encoder.backward(b, e.stack, dout: dy, recompute: recompute)
        if let mask = e.mask, let maskToken {
            // masked rows took the token, not the patch embedding
            let g = b.grads[maskToken], w = c.width
            for r in 0..<R where mask[r] {
                Vector.add(g, dh + r * w, w)
                (dh + r * w).initialize(repeating: 0, count: w)
            }
        }
        patchEmbed.backward(b.w, b.grads, dx: nil, dout: dh, x: e.x, on: b.workers)
    }
}

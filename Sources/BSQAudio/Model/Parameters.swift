/// Every weight of a model in one flat float buffer, with a named view per
/// checkpoint key (MODEL.md's names, in its order). One allocation: the
/// optimizer, the EMA and the gradients use the same layout.
public struct ParameterLayout: Sendable {
    public struct Slot: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let slots: [Slot]
    public let count: Int
    private let index: [String: Int]

    public init(_ c: ModelConfig) {
        var slots: [Slot] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) {
            slots.append(Slot(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        let w = c.width, L = c.embed_dim, pd = c.patchDim, n = c.tokens
        func norm(_ p: String) { add(p + ".weight", [w]); add(p + ".bias", [w]) }
        func linear(_ p: String, _ out: Int, _ inp: Int) { add(p + ".weight", [out, inp]); add(p + ".bias", [out]) }
        func blocks(_ stack: String) {
            for i in 0..<c.layers {
                let b = "\(stack).blocks.\(i)"
                norm(b + ".ln_1")
                add(b + ".attn.in_proj_weight", [3 * w, w])
                add(b + ".attn.in_proj_bias", [3 * w])
                linear(b + ".attn.out_proj", w, w)
                if c.conv_module {
                    norm(b + ".conv.norm")
                    linear(b + ".conv.pointwise_conv1", 2 * w, w)
                    linear(b + ".conv.depthwise_conv", w, c.conv_kernel)
                    norm(b + ".conv.batch_norm")
                    add(b + ".conv.batch_norm.running_mean", [w])
                    add(b + ".conv.batch_norm.running_var", [w])
                    linear(b + ".conv.pointwise_conv2", w, w)
                }
                norm(b + ".ln_2")
                linear(b + ".mlp.c_fc", c.mlp_ratio * w, w)
                linear(b + ".mlp.c_proj", w, c.mlp_ratio * w)
            }
        }
        add("encoder.patch_embed.weight", [w, pd])
        add("encoder.positional_embedding", [n, w])
        norm("encoder.ln_pre")
        blocks("encoder")
        norm("encoder.ln_post")
        linear("quant_embed", L, w)
        linear("post_quant_embed", w, L)
        add("decoder.positional_embedding", [n, w])
        norm("decoder.ln_pre")
        blocks("decoder")
        norm("decoder.ln_post")
        linear("decoder.ffn", c.decoder_ffn, w)
        linear("decoder.conv_out", pd, c.decoder_ffn)
        self.slots = slots
        count = offset
        var ix: [String: Int] = [:]
        for (i, s) in slots.enumerated() { ix[s.name] = i }
        index = ix
    }

    public func slot(_ name: String) -> Slot? { index[name].map { slots[$0] } }

    /// Position in `slots` of a key that the layout is known to have.
    public func index(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("no parameter \(name)") }
        return i
    }

    /// Offset of a key that the layout is known to have.
    public func offset(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("no parameter \(name)") }
        return slots[i].offset
    }
}

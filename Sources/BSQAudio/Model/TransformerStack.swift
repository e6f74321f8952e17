/// The encoder's or decoder's transformer: `positional_embedding` [N, w]
/// added to its input, LayerNorm `ln_pre`, the blocks `blocks.{i}`, LayerNorm `ln_post`.
public struct TransformerStack: Sendable {
    public let positional: Parameter
    public let lnPre: Norm
    public let blocks: [TransformerBlock]
    public let lnPost: Norm
    let width: Int, tokens: Int

    public init(_ p: inout ParameterBuilder, _ c: ModelConfig) {
        width = c.width
        tokens = c.tokens
        positional = p.tensor("positional_embedding", [c.tokens, c.width], .normal(0.02))
        lnPre = p.scope("ln_pre") { Norm(&$0, width: c.width) }
        blocks = (0..<c.layers).map { i in p.scope("blocks.\(i)") { TransformerBlock(&$0, c) } }
        lnPost = p.scope("ln_post") { Norm(&$0, width: c.width) }
    }

    /// The stack's activations: its input with the positional embedding added
    /// (`pre`), each block's input, the blocks' caches (or none with
    /// `recompute`: they are made again in the backward), the input of
    /// ln_post, and the output.
    public struct Cache {
        var pre: UnsafeMutablePointer<Float>
        var preStats, postStats: RowStats?
        var inputs: [UnsafeMutablePointer<Float>]
        var blocks: [TransformerBlock.Cache]
        var post: UnsafeMutablePointer<Float>
        public var out: UnsafeMutablePointer<Float>
    }

    /// out = ln_post(blocks(ln_pre(h + positional_embedding))); `h` [rows, w]
    /// receives the positional embedding. Inference runs the blocks in place
    /// and takes each block's buffers back after it; training keeps them
    /// (or, with `recompute`, only each block's input).
    public func forward(_ pass: Pass, _ h: UnsafeMutablePointer<Float>, recompute: Bool = false) -> Cache {
        let w = pass.weights, R = pass.rows, a = pass.arena, width = self.width
        let pos = w[positional]
        pass.workers.rowBlocks { r0, rows in
            for r in 0..<rows { Vector.add(h + (r0 + r) * width, pos + (r0 + r) % tokens * width, width) }
        }
        var cache = Cache(pre: h, preStats: pass.training ? RowStats(a, count: R) : nil, postStats: pass.training ? RowStats(a, count: R) : nil,
                          inputs: [], blocks: [], post: h, out: h)
        var x = pass.training ? a.allocate(R * width) : h
        lnPre.forward(w, x, h, stats: cache.preStats, on: pass.workers)
        for block in blocks {
            if !pass.training {
                let mark = a.mark()
                block.forward(pass, input: x, output: x)
                a.release(mark)
                continue
            }
            let out = a.allocate(R * width)
            cache.inputs.append(x)
            if recompute {
                let mark = a.mark()
                block.forward(pass, input: x, output: out)
                a.release(mark)
            } else {
                cache.blocks.append(block.forward(pass, input: x, output: out))
            }
            x = out
        }
        cache.post = x
        cache.out = a.allocate(R * width)
        lnPost.forward(w, cache.out, x, stats: cache.postStats, on: pass.workers)
        return cache
    }

    /// The gradient at the stack's input (returned, from `b.scratch`) from
    /// `dout` at its output; parameter gradients accumulated.
    public func backward(_ b: Backward, _ cache: Cache, dout: UnsafePointer<Float>, recompute: Bool = false) -> UnsafeMutablePointer<Float> {
        let R = b.pass.rows, s = b.scratch
        let dh = s.zeros(R * width)
        lnPost.backward(b.w, b.grads, dx: dh, dout: dout, x: cache.post, stats: cache.postStats!, scratch: s, on: b.workers)
        for (i, block) in blocks.enumerated().reversed() {
            if recompute {
                let a = b.pass.arena, mark = a.mark()
                let again = block.forward(b.pass.recomputing, input: cache.inputs[i], output: a.allocate(R * width))
                block.backward(b, again, dh: dh)
                a.release(mark)
            } else {
                block.backward(b, cache.blocks[i], dh: dh)
            }
        }
        let dpre = s.zeros(R * width)
        lnPre.backward(b.w, b.grads, dx: dpre, dout: dh, x: cache.pre, stats: cache.preStats!, scratch: s, on: b.workers)
        let dpos = b.grads[positional], n = tokens * width
        for c in 0..<b.pass.batch { Vector.add(dpos, dpre + c * n, n) }
        return dpre
    }
}

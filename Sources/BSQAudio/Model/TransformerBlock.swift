/// One pre-norm transformer block (`blocks.{i}`):
///     x1 = x0 + Attn(LN_1(x0));   x2 = x1 + Conv(x1) (if conv_module);   out = x2 + MLP(LN_2(x2))
/// with MLP = `mlp.c_proj`(GELU(`mlp.c_fc`(·))) (exact, erf GELU). Forward and
/// backward side by side; the backward reads the forward's `Cache`.
public struct TransformerBlock: Sendable {
    public let ln1: Norm
    public let attn: SelfAttention
    public let conv: ConvModule?
    public let ln2: Norm
    public let fc: Dense, proj: Dense
    let width: Int, hidden: Int

    public init(_ p: inout ParameterBuilder, _ c: ModelConfig) {
        width = c.width
        hidden = c.mlp_ratio * c.width
        let w = c.width, hid = hidden
        ln1 = p.scope("ln_1") { Norm(&$0, width: w) }
        attn = p.scope("attn") { SelfAttention(&$0, c) }
        conv = c.conv_module ? p.scope("conv") { ConvModule(&$0, c) } : nil
        ln2 = p.scope("ln_2") { Norm(&$0, width: w) }
        (fc, proj) = p.scope("mlp") { m in (m.scope("c_fc") { Dense(&$0, in: w, out: hid) }, m.scope("c_proj") { Dense(&$0, in: hid, out: w) }) }
    }

    /// The block's activations. Training keeps in the pass's arena what the
    /// backward reads (with the norms' statistics) and takes from its scratch
    /// arena what the backward recomputes (GLU, SiLU and GELU outputs, each a
    /// cheap elementwise function of a kept input) or never reads (the
    /// branches before they join the residual stream). Inference lets
    /// buffers that are never alive together share one (the residual stream
    /// is updated in place), so a block needs about ten rows of width per token.
    public struct Cache {
        var x0, ln1, qkv, attn, x1, cln, pw1, dw, bn, x2, ln2, fc, out: UnsafeMutablePointer<Float>
        var glu, silu, gelu: UnsafeMutablePointer<Float>
        /// Results of out_proj, pointwise_conv2 and c_proj before they join the residual stream.
        var projOut, convOut, mlpOut: UnsafeMutablePointer<Float>
        var probs: UnsafeMutablePointer<Float>?
        var ln1Stats, clnStats, ln2Stats, bnStats: RowStats?

        init(_ pass: Pass, input x0: UnsafeMutablePointer<Float>, output out: UnsafeMutablePointer<Float>, block: TransformerBlock) {
            let a = pass.arena, R = pass.rows, w = block.width, hid = block.hidden, conv = block.conv != nil
            self.x0 = x0
            self.out = out
            if pass.training, let t = pass.scratch {
                ln1 = a.allocate(R * w); qkv = a.allocate(R * 3 * w); attn = a.allocate(R * w); x1 = a.allocate(R * w)
                cln = conv ? a.allocate(R * w) : x1; pw1 = conv ? a.allocate(R * 2 * w) : x1
                dw = conv ? a.allocate(R * w) : x1; bn = conv ? a.allocate(R * w) : x1
                x2 = conv ? a.allocate(R * w) : x1
                ln2 = a.allocate(R * w); fc = a.allocate(R * hid)
                probs = a.allocate(pass.batch * pass.config.heads * pass.config.tokens * pass.config.tokens)
                ln1Stats = RowStats(a, count: R); ln2Stats = RowStats(a, count: R)
                clnStats = conv ? RowStats(a, count: R) : nil; bnStats = conv ? RowStats(a, count: w) : nil
                projOut = t.allocate(R * w); convOut = projOut; mlpOut = projOut
                glu = conv ? t.allocate(R * w) : projOut; silu = glu
                gelu = t.allocate(R * hid)
            } else {
                precondition(out == x0, "an inference block updates its input in place")
                let y = a.allocate(R * w), wide = a.allocate(R * max(hid, 2 * w)), shared = a.allocate(R * w)
                qkv = a.allocate(R * 3 * w)
                ln1 = y; attn = shared; x1 = x0; cln = y; pw1 = wide; glu = shared; dw = y; bn = y; silu = y; x2 = x0
                ln2 = y; fc = wide; gelu = wide
                projOut = y; convOut = shared; mlpOut = y
            }
        }
    }

    /// out = block(x0). `out` may be `x0` in inference (the residual stream in place).
    @discardableResult
    public func forward(_ pass: Pass, input x0: UnsafeMutablePointer<Float>, output out: UnsafeMutablePointer<Float>) -> Cache {
        let w = pass.weights, width = self.width, hidden = self.hidden
        let mark = pass.scratch?.mark()
        defer { if let mark { pass.scratch!.release(mark) } }
        let a = Cache(pass, input: x0, output: out, block: self)
        pass.workers.rowBlocks { r0, n in
            ln1.forward(w, a.ln1 + r0 * width, a.x0 + r0 * width, rows: n, stats: a.ln1Stats, firstRow: r0)
            attn.inProj.forward(w, a.qkv + r0 * 3 * width, a.ln1 + r0 * width, rows: n)
        }
        attn.attend(pass, a.attn, qkv: a.qkv, probs: a.probs)
        pass.workers.rowBlocks { r0, n in
            let o = r0 * width
            attn.outProj.forward(w, a.projOut + o, a.attn + o, rows: n)
            TransformerBlock.residual(a.x1 + o, a.x0 + o, a.projOut + o, count: n * width)
            if let conv {
                conv.norm.forward(w, a.cln + o, a.x1 + o, rows: n, stats: a.clnStats, firstRow: r0)
                conv.pointwise1.forward(w, a.pw1 + 2 * o, a.cln + o, rows: n)
                Activations.glu(a.glu + o, a.pw1 + 2 * o, rows: n, cols: width)
            }
        }
        if let conv {
            conv.convolve(pass, a.dw, a.glu)
            if let stats = a.bnStats { conv.batchNormTraining(pass, a.bn, a.dw, stats: stats) }
        }
        pass.workers.rowBlocks { r0, n in
            let o = r0 * width
            if let conv {
                if a.bnStats == nil { conv.batchNormInference(w, a.bn + o, rows: n) }
                Activations.silu(a.silu + o, a.bn + o, count: n * width)
                conv.pointwise2.forward(w, a.convOut + o, a.silu + o, rows: n)
                TransformerBlock.residual(a.x2 + o, a.x1 + o, a.convOut + o, count: n * width)
            }
            ln2.forward(w, a.ln2 + o, a.x2 + o, rows: n, stats: a.ln2Stats, firstRow: r0)
            fc.forward(w, a.fc + r0 * hidden, a.ln2 + o, rows: n)
            Activations.gelu(a.gelu + r0 * hidden, a.fc + r0 * hidden, count: n * hidden)
            proj.forward(w, a.mlpOut + o, a.gelu + r0 * hidden, rows: n)
            TransformerBlock.residual(a.out + o, a.x2 + o, a.mlpOut + o, count: n * width)
        }
        return a
    }

    /// out = x + y (out may be x).
    @inline(__always)
    static func residual(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        if out != UnsafeMutablePointer(mutating: x) { out.update(from: x, count: count) }
        Vector.add(out, y, count)
    }

    /// dh: the gradient at the block's output on entry, at its input on return;
    /// parameter gradients accumulated. Temporaries come from `b.scratch`.
    public func backward(_ b: Backward, _ a: Cache, dh: UnsafeMutablePointer<Float>) {
        let R = b.pass.rows, w = width, hid = hidden, s = b.scratch, mark = s.mark()
        defer { s.release(mark) }
        // MLP: out = x2 + c_proj(gelu(c_fc(ln_2(x2)))); gelu recomputed from fc
        let gelu = s.allocate(R * hid)
        b.workers.rowBlocks { r0, n in Activations.gelu(gelu + r0 * hid, a.fc + r0 * hid, count: n * hid) }
        let dfc = s.zeros(R * hid)
        proj.backward(b.w, b.grads, dx: dfc, dout: dh, x: gelu, on: b.workers)
        b.workers.rowBlocks { r0, n in
            Activations.geluBackward(dx: dfc + r0 * hid, dout: dfc + r0 * hid, x: a.fc + r0 * hid, count: n * hid)
        }
        let dln2 = s.zeros(R * w)
        fc.backward(b.w, b.grads, dx: dln2, dout: dfc, x: a.ln2, on: b.workers)
        ln2.backward(b.w, b.grads, dx: dh, dout: dln2, x: a.x2, stats: a.ln2Stats!, scratch: s, on: b.workers)
        if let conv {
            // x2 = x1 + pw2(silu(bn(dwconv(glu(pw1(norm(x1))))))); silu and glu recomputed
            let silu = s.allocate(R * w)
            b.workers.rowBlocks { r0, n in Activations.silu(silu + r0 * w, a.bn + r0 * w, count: n * w) }
            let dbn = s.zeros(R * w)
            conv.pointwise2.backward(b.w, b.grads, dx: dbn, dout: dh, x: silu, on: b.workers)
            b.workers.rowBlocks { r0, n in
                Activations.siluBackward(dx: dbn + r0 * w, dout: dbn + r0 * w, x: a.bn + r0 * w, count: n * w)
            }
            let ddw = s.zeros(R * w)
            conv.batchNormBackward(b, dx: ddw, dout: dbn, x: a.dw, stats: a.bnStats!)
            let glu = silu
            b.workers.rowBlocks { r0, n in Activations.glu(glu + r0 * w, a.pw1 + r0 * 2 * w, rows: n, cols: w) }
            let dglu = s.zeros(R * w)
            conv.convolveBackward(b, dx: dglu, dout: ddw, x: glu)
            let dpw1 = s.zeros(R * 2 * w)
            b.workers.rowBlocks { r0, n in
                Activations.gluBackward(dx: dpw1 + r0 * 2 * w, dout: dglu + r0 * w, x: a.pw1 + r0 * 2 * w, rows: n, cols: w)
            }
            let dcln = s.zeros(R * w)
            conv.pointwise1.backward(b.w, b.grads, dx: dcln, dout: dpw1, x: a.cln, on: b.workers)
            conv.norm.backward(b.w, b.grads, dx: dh, dout: dcln, x: a.x1, stats: a.clnStats!, scratch: s, on: b.workers)
        }
        // attention: x1 = x0 + out_proj(attn(qkv(ln_1(x0))))
        let dattn = s.zeros(R * w)
        attn.outProj.backward(b.w, b.grads, dx: dattn, dout: dh, x: a.attn, on: b.workers)
        let dqkv = s.zeros(R * 3 * w)
        attn.attendBackward(b, dqkv: dqkv, dout: dattn, qkv: a.qkv, probs: a.probs!)
        let dln1 = s.zeros(R * w)
        attn.inProj.backward(b.w, b.grads, dx: dln1, dout: dqkv, x: a.ln1, on: b.workers)
        ln1.backward(b.w, b.grads, dx: dh, dout: dln1, x: a.x0, stats: a.ln1Stats!, scratch: s, on: b.workers)
    }
}

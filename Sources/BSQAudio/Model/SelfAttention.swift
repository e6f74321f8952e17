/// Multi-head self-attention (`attn`): packed projections `in_proj_weight`
/// [3w, w] (rows q, then k, then v) and `in_proj_bias`, `heads` heads of
/// d = w/heads, full softmax(q·kᵀ/√d)·v per chunk, then `out_proj`.
/// The kernels of one (chunk, head) are in `Attention`.
public struct SelfAttention: Sendable {
    public let inProj: Dense
    public let outProj: Dense
    public let heads: Int, tokens: Int, width: Int

    public init(_ p: inout ParameterBuilder, _ c: ModelConfig) {
        heads = c.heads
        tokens = c.tokens
        width = c.width
        inProj = Dense(&p, in: c.width, out: 3 * c.width, weightName: "in_proj_weight", biasName: "in_proj_bias")
        outProj = p.scope("out_proj") { Dense(&$0, in: c.width, out: c.width) }
    }

    /// Attention of every (chunk, head) pair of `qkv` [rows, 3w] into `out`
    /// [rows, w]. Training keeps the probabilities in `probs` [batch·heads, N, N];
    /// inference uses one [N, N] matrix per worker from the arena.
    public func attend(_ pass: Pass, _ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                       probs: UnsafeMutablePointer<Float>?) {
        let N = tokens, arena = pass.arena, mark = arena.mark()
        defer { arena.release(mark) }
        let scores = probs ?? arena.allocate(pass.workers.threads * N * N)
        pass.workers.tasks(pass.batch * heads) { t, worker in
            Attention.forward(out, qkv: qkv, scores: scores + (probs == nil ? worker : t) * N * N,
                              sequence: t / heads, head: t % heads, tokens: N, width: width, heads: heads)
        }
    }

    /// dqkv += the gradient of `attend` from dout [rows, w], with the forward's probabilities.
    public func attendBackward(_ b: Backward, dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                               qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>) {
        let N = tokens, mark = b.scratch.mark()
        defer { b.scratch.release(mark) }
        let scratch = b.scratch.allocate(b.workers.threads * N * N)
        b.workers.tasks(b.pass.batch * heads) { t, worker in
            Attention.backward(dqkv: dqkv, dout: dout, qkv: qkv, probabilities: probs + t * N * N, scratch: scratch + worker * N * N,
                               sequence: t / heads, head: t % heads, tokens: N, width: width, heads: heads)
        }
    }
}

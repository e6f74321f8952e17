/// One training step of docs/model.md on a batch of chunks: the network's
/// forward pass in training mode (every activation the backward needs kept
/// in an arena reused from step to step; BatchNorm on batch statistics,
/// running statistics updated in the parameters), the loss, and the backward
/// of every layer, which writes the gradient of the loss for every parameter
/// into the parameter layout.
public final class TrainingStep {
    public let config: ModelConfig
    public let network: BSQNetwork
    public var layout: ParameterLayout { network.layout }
    public var loss: BSQLoss
    /// Pass the decoder's gradient through the quantizer to u (BSQ-ViT's
    /// straight-through estimator, ∂q/∂u = 1/√L); off only for gradient checks.
    public var straightThrough = true
    /// The discriminator's part of each step from `disc.start` on (nil: none).
    public var adversarial: AdversarialStep?
    public let batch: Int
    /// Masked pre-training's loss: the L1 over the masked patches only (`train.mask_loss masked`).
    public var maskedLossOnly = false
    /// Gradient checkpointing: keep only each block's input in the forward
    /// and run the block forward again in the backward.
    public let recompute: Bool
    /// Workers the step's pieces run on (row blocks, slices of weight rows,
    /// attention heads, chunks), with OpenBLAS on one thread.
    public let threads: Int
    /// Data-parallel training: the processes whose batches make the whole
    /// batch (BatchNorm statistics and the loss's means over all of them;
    /// `grads` is then this process's part of the whole batch's gradient,
    /// which the trainer sums over the processes). nil: this process alone.
    public var across: Collective?
    private let activations = Arena(), scratch = Arena()

    public init(config: ModelConfig, batch: Int, recompute: Bool = false, threads: Int = 1) {
        self.config = config
        network = BSQNetwork(config)
        self.recompute = recompute
        self.threads = max(1, threads)
        BLAS.setThreads(1)
        loss = BSQLoss(config)
        self.batch = batch
    }

    public struct Result: Sendable {
        public var total = 0.0, l1 = 0.0
        public var quantizer = BSQLoss.QuantizerTerms()
        public var lambdaQ = 0.0
        public var tokens: [UInt64] = []
        /// The adversarial terms, on steps that had them.
        public var adversarial: AdversarialStep.Terms?
    }

    /// Gives the activations' memory back to the system (before validation
    /// or a checkpoint, so that their own buffers do not come on top); the
    /// next step maps it again in one piece.
    public func releaseMemory() {
        activations.trim()
        scratch.trim()
        adversarial?.releaseMemory()
    }

    /// Runs forward and backward on `mel` [batch, frames, n_mels] (dB);
    /// writes ∂loss/∂params into `grads` (overwritten) and updates the
    /// BatchNorm running statistics inside `params`. With `mask` [batch·tokens]
    /// the masked tokens' patch embeddings are replaced by the mask token
    /// (masked pre-training). With `adversarial` and
    /// from its start step, the loss gains the generator's term (the
    /// discriminator's weights in `disc`), and `discGrads` receives the
    /// gradients of the discriminator's own step on the same batch.
    public func run(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>,
                    mel: UnsafePointer<Float>, step: Int, mask: UnsafePointer<Bool>? = nil,
                    disc: UnsafeMutablePointer<Float>? = nil, discGrads: UnsafeMutablePointer<Float>? = nil) -> Result {
        let c = config, L = c.embed_dim, pd = c.patchDim
        activations.reset()
        scratch.reset()
        grads.initialize(repeating: 0, count: layout.count)
        var pass = Pass(config: c, weights: Weights(params, layout), batch: batch, threads: threads, arena: activations,
                        scratch: scratch, training: true, running: ParameterBuffer(params))
        pass.across = across
        var loss = self.loss
        loss.across = across
        let R = pass.rows
        var result = Result()
        result.tokens = [UInt64](repeating: 0, count: R)

        // forward: encoder and quantizer, decoder from the codes
        let enc = result.tokens.withUnsafeMutableBufferPointer { network.encode(pass, mel: mel, tokens: $0.baseAddress!, recompute: recompute, mask: mask) }
        let dec = result.tokens.withUnsafeBufferPointer { network.decode(pass, tokens: $0.baseAddress!, recompute: recompute) }

        // loss (L1 in the normalized patch space equals L1 over the un-patchified mel)
        let dy = scratch.zeros(R * pd), du = scratch.zeros(R * L)
        if let mask, maskedLossOnly {
            result.l1 = BSQLoss.l1(dec.y, enc.x, rows: R, cols: pd, mask: mask, dy: dy, across: across)
        } else {
            result.l1 = BSQLoss.l1(dec.y, enc.x, count: R * pd, dy: dy, across: across)
        }
        result.quantizer = loss.quantizer(enc.u, tokens: R, du: du)
        result.lambdaQ = loss.lambdaQ(step: step)
        result.total = result.l1 + result.lambdaQ * result.quantizer.lq
        for i in 0..<(R * L) { du[i] *= Float(result.lambdaQ) }
        var adversarialTerms: AdversarialStep.Terms?
        if let adversarial, step >= adversarial.config.start, let disc {
            let t = adversarial.generator(y: dec.y, f: dec.f, dy: dy, disc: disc)
            result.total += t.dWeight * t.gLoss
            adversarialTerms = t
        }

        // backward: decoder, through the quantizer, encoder
        let b = Backward(pass: pass, grads: ParameterBuffer(grads), scratch: scratch)
        let dq = network.decodeBackward(b, dec, dy: dy, recompute: recompute)
        if straightThrough { BSQQuantizer.straightThrough(du: du, dq: dq, count: R * L, bits: L) }
        network.encodeBackward(b, enc, du: du, recompute: recompute)
        if var t = adversarialTerms, let disc, let discGrads {
            adversarial!.discriminatorStep(x: enc.x, y: dec.y, disc: disc, grads: discGrads, terms: &t)
            result.adversarial = t
        }
        return result
    }
}

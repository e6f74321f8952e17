/// The adversarial part of a training step (BSQ-ViT's `VQLPIPSWithDiscriminator`
/// with the hinge loss, on mel images [batch, 1, frames, n_mels]): the
/// generator's term, its adaptive weight, and one discriminator step.
///
/// Generator: x̂ = clamp(y, −1, 1) (the decoder output as the L1 sees it);
/// g_loss = −mean D(x̂); d_weight = clamp(‖∇_W nll‖ / (‖∇_W g_loss‖ + 1e-4), 0, 1e4)·weight
/// with W = `decoder.conv_out.weight` (or `weight` alone when not adaptive);
/// the decoder output's gradient becomes ∂nll/∂y + d_weight·∂g_loss/∂y.
/// Discriminator: d_loss = ½(mean relu(1 − D(x)) + mean relu(1 + D(x̂))), with
/// D called separately on real and fake (BatchNorm statistics per call, running
/// statistics updated by every call, the generator's included).
public final class AdversarialStep {
    public let discriminator: Discriminator
    public let config: DiscConfig
    let model: ModelConfig
    let batch: Int, threads: Int
    /// Data-parallel training: the processes whose batches make the whole
    /// batch (D's BatchNorm statistics, the losses' means and the adaptive
    /// weight's gradient norms over all of them). nil: this process alone.
    public var across: Collective?
    private let activations = Arena(), scratch = Arena()

    public init(model: ModelConfig, config: DiscConfig, batch: Int, threads: Int) {
        self.model = model
        self.config = config
        self.batch = batch
        self.threads = max(1, threads)
        discriminator = Discriminator(ndf: config.ndf, layers: config.layers)
    }

    public struct Terms: Sendable {
        public var gLoss = 0.0, dWeight = 0.0, dLoss = 0.0, logitsReal = 0.0, logitsFake = 0.0
    }

    var imageCount: Int { model.frames * model.n_mels }
    var logitCount: Int { batch * discriminator.shapes(height: model.frames, width: model.n_mels).last!.outputCount }

    /// The images of patches [batch·tokens, pt·pf]: [batch, frames, n_mels].
    func images(_ patches: UnsafePointer<Float>, clamp: Bool) -> UnsafeMutablePointer<Float> {
        let c = model, out = activations.allocate(batch * imageCount)
        for b in 0..<batch { Patches.image(out + b * imageCount, patches: patches + b * c.tokens * c.patchDim, c, clamp: clamp) }
        return out
    }

    /// The generator's side: adds d_weight·∂g_loss/∂y to `dy` [rows, pt·pf]
    /// (which holds ∂nll/∂y), given y and the head's input f [rows, decoder_ffn];
    /// D's running statistics updated in `disc`. Returns g_loss and d_weight.
    func generator(y: UnsafePointer<Float>, f: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>, disc: UnsafeMutablePointer<Float>) -> Terms {
        let c = model, R = batch * c.tokens, pd = c.patchDim
        activations.reset(); scratch.reset()
        let fake = images(y, clamp: true)
        let w = Weights(disc, discriminator.layout)
        let cache = discriminator.forward(w, images: fake, batch: batch, height: c.frames, width: c.n_mels,
                                          running: ParameterBuffer(disc), arena: activations, threads: threads, across: across)
        var t = Terms()
        let dlogits = scratch.allocate(logitCount)
        t.gLoss = AdversarialLoss.generator(fake: cache.logits, count: logitCount, dFake: dlogits, across: across)
        let dimage = discriminator.backward(w, cache, dlogits: dlogits, grads: nil, inputGradient: true, scratch: scratch, threads: threads,
                                            across: across)!
        let dg = scratch.allocate(R * pd)
        for b in 0..<batch { Patches.patches(dg + b * c.tokens * pd, image: dimage + b * imageCount, c) }
        for i in 0..<(R * pd) where y[i] < -1 || y[i] > 1 { dg[i] = 0 }           // through the clamp
        if config.adaptive {
            let ffn = c.decoder_ffn, gn = scratch.zeros(pd * ffn), gg = scratch.zeros(pd * ffn)
            BLAS.sgemm(transA: true, m: pd, n: ffn, k: R, a: dy, b: f, c: gn)      // ∇_W nll = dyᵀ·f
            BLAS.sgemm(transA: true, m: pd, n: ffn, k: R, a: dg, b: f, c: gg)
            if let across, across.size > 1 { across.sum(gn, count: pd * ffn); across.sum(gg, count: pd * ffn) }   // the whole batch's
            t.dWeight = AdversarialLoss.adaptiveWeight(nllGrad: gn, gGrad: gg, count: pd * ffn, weight: config.weight)
        } else {
            t.dWeight = config.weight
        }
        let k = Float(t.dWeight)
        for i in 0..<(R * pd) { dy[i] += k * dg[i] }
        return t
    }

    /// One discriminator step's gradients (written into `grads`, overwritten)
    /// on real patches x and the fake y (clamped); running statistics updated in `disc`.
    func discriminatorStep(x: UnsafePointer<Float>, y: UnsafePointer<Float>, disc: UnsafeMutablePointer<Float>,
                           grads: UnsafeMutablePointer<Float>, terms: inout Terms) {
        let c = model, n = logitCount
        activations.reset(); scratch.reset()
        grads.initialize(repeating: 0, count: discriminator.layout.count)
        let real = images(x, clamp: false), fake = images(y, clamp: true)
        let w = Weights(disc, discriminator.layout), running = ParameterBuffer(disc)
        let cr = discriminator.forward(w, images: real, batch: batch, height: c.frames, width: c.n_mels, running: running, arena: activations,
                                       threads: threads, across: across)
        let cf = discriminator.forward(w, images: fake, batch: batch, height: c.frames, width: c.n_mels, running: running, arena: activations,
                                       threads: threads, across: across)
        let dReal = scratch.allocate(n), dFake = scratch.allocate(n)
        terms.dLoss = AdversarialLoss.hingeD(real: cr.logits, fake: cf.logits, count: n, dReal: dReal, dFake: dFake, across: across)
        var logits = [(0..<n).reduce(0.0) { $0 + Double(cr.logits[$1]) }, (0..<n).reduce(0.0) { $0 + Double(cf.logits[$1]) }, Double(n)]
        if let across, across.size > 1 { logits = across.sum(logits) }
        terms.logitsReal = logits[0] / logits[2]
        terms.logitsFake = logits[1] / logits[2]
        let g = ParameterBuffer(grads)
        discriminator.backward(w, cr, dlogits: dReal, grads: g, inputGradient: false, scratch: scratch, threads: threads, across: across)
        discriminator.backward(w, cf, dlogits: dFake, grads: g, inputGradient: false, scratch: scratch, threads: threads, across: across)
    }

    /// Gives the buffers' memory back (before validation and checkpoints).
    public func releaseMemory() { activations.trim(); scratch.trim() }
}

import Foundation

/// One training step of the vocoder: forward, `SpectralLoss` against the
/// target samples, backward into the gradients (zeroed here). Its arenas are
/// reused from step to step.
public final class VocoderStep {
    public let network: VocosNetwork
    public let loss: SpectralLoss
    public let threads: Int
    private let arena = Arena(), scratch = Arena()

    public init(config: VocoderConfig, train: VocoderTrainConfig, threads: Int) {
        network = VocosNetwork(config)
        loss = SpectralLoss(sampleRate: config.sample_rate, melWeight: train.mel_weight, stftWeight: train.stft_weight)
        self.threads = max(1, threads)
        BLAS.setThreads(1)
    }

    /// The loss of `batch` crops (`mel` [batch, frames, n_mels] dB, `audio`
    /// [batch, (frames − 1)·hop]); with `grads`, its gradient (overwritten).
    /// `adversarial`, when given, runs between the loss and the backward with
    /// the predicted audio (rows `stride` apart, the first (frames − 1)·hop of
    /// each compared) and ∂loss/∂audio, to add its own terms' gradient.
    public func run(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>?, mel: UnsafePointer<Float>,
                    audio: UnsafePointer<Float>, batch: Int, frames: Int,
                    adversarial: ((_ predicted: UnsafePointer<Float>, _ stride: Int, _ gradient: UnsafeMutablePointer<Float>) -> Void)? = nil)
        -> SpectralLoss.Value {
        arena.reset(); scratch.reset()
        let hop = network.config.hop_length, w = Weights(params, network.layout)
        let cache = network.forwardTraining(w, mel: mel, batch: batch, frames: frames, arena: arena, threads: threads)
        let daudio = grads == nil ? nil : scratch.zeros(batch * frames * hop)
        let value = loss.evaluate(predicted: cache.audio, stride: frames * hop, target: audio, batch: batch, length: (frames - 1) * hop,
                                  gradient: daudio, threads: threads)
        if let adversarial, let daudio { adversarial(cache.audio, frames * hop, daudio) }
        if let grads, let daudio {
            grads.update(repeating: 0, count: network.layout.count)
            network.backward(w, cache, daudio: daudio, grads: ParameterBuffer(grads), scratch: scratch, threads: threads)
        }
        return value
    }

    /// Gives the arenas' memory back (before validation and checkpoints).
    public func releaseMemory() { arena.trim(); scratch.trim() }
}

/// The loop of `bsq-train vocoder`, as `Trainer` runs the tokenizer's:
/// batches made ahead, a `VocoderStep`, clipping, AdamW, EMA; JSON log lines
/// (`loss mel stft lr grad_norm`), validation of the EMA weights on the
/// held-out crops, checkpoints (the last `keep`), a save on SIGINT/SIGTERM,
/// and a resumed run that continues exactly.
public final class VocoderTrainer {
    public let state: VocoderState
    public let data: VocoderData
    public let validation: VocoderData?
    public let directory: String
    public let threads: Int
    public var logPath: String
    public var progress: ProgressDisplay?
    public var plot: ((String) throws -> Void)?
    private var log: RunLog?

    public init(state: VocoderState, data: VocoderData, validation: VocoderData?, directory: String, log: String?, threads: Int) {
        self.state = state
        self.data = data
        self.validation = validation
        self.directory = directory
        self.threads = threads
        logPath = log ?? directory + "/log.jsonl"
    }

    @discardableResult
    public func run(resumed: Bool) throws -> Trainer.Outcome {
        let t = state.run.train, segment = t.segment
        log = try RunLog(path: logPath, keepingUpTo: resumed ? state.step : nil, stale: logPath == directory + "/log.jsonl")
        defer { log?.close() }
        let step = VocoderStep(config: state.run.vocoder, train: t, threads: threads)
        let adversary = state.discriminator == nil ? nil : VocoderAdversary(state.run.disc, threads: threads)
        var discGrads = [Float](repeating: 0, count: state.discriminator?.layout.count ?? 0)
        let data = self.data
        let prefetch = BatchPrefetcher(from: state.step) { s, cancelled in try data.batch(step: s, size: t.batch, cancelled: cancelled) }
        defer { prefetch.stop() }
        let heldOut = try validation?.fixedBatches(size: t.batch)
        var grads = [Float](repeating: 0, count: state.layout.count)
        var windowStart = Date(), windowSteps = 0
        let runStart = Date(), firstStep = state.step
        var lastSaved = ""
        if state.step == 0, let heldOut { validate(heldOut, step) }
        let melCount = t.batch * segment * state.run.vocoder.n_mels
        while state.step < t.steps {
            let s = state.step
            let batch = try prefetch.take(s)
            let lr = t.learningRate(step: s)
            var terms: VocoderAdversary.Terms?
            var adversarial: ((UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void)?
            if let adversary, let disc = state.discriminator, s >= state.run.disc.start {
                let real = batch, L = t.samples(hop: state.run.vocoder.hop_length), discLR = state.discriminatorLearningRate(step: s)
                adversarial = { fake, stride, gradient in
                    var a = VocoderAdversary.Terms()
                    real.withUnsafeBufferPointer { r in
                        discGrads.withUnsafeMutableBufferPointer { dg in
                            disc.params.withUnsafeBufferPointer { d in
                                adversary.discriminatorStep(params: d.baseAddress!, grads: dg.baseAddress!, real: r.baseAddress! + melCount,
                                                            fake: fake, stride: stride, batch: t.batch, length: L, terms: &a)
                            }
                            disc.apply(grads: dg.baseAddress!, clip: t.clip, lr: discLR)
                        }
                        disc.params.withUnsafeBufferPointer { d in
                            adversary.generatorTerms(params: d.baseAddress!, real: r.baseAddress! + melCount, fake: fake, stride: stride,
                                                     batch: t.batch, length: L, gradient: gradient, terms: &a)
                        }
                    }
                    terms = a
                }
            }
            let v = state.params.withUnsafeBufferPointer { p in
                grads.withUnsafeMutableBufferPointer { g in
                    batch.withUnsafeBufferPointer { b in
                        step.run(params: p.baseAddress!, grads: g.baseAddress!, mel: b.baseAddress!, audio: b.baseAddress! + melCount,
                                 batch: t.batch, frames: segment, adversarial: adversarial)
                    }
                }
            }
            guard terms.map({ $0.dLoss.isFinite && $0.gen.isFinite && $0.fm.isFinite }) ?? true else {
                throw BSQError("step \(s + 1): the adversarial losses are not finite; lower disc.lr or raise disc.start")
            }
            guard v.total.isFinite else { throw BSQError("step \(s + 1): the loss is \(v.total); lower train.lr or raise train.warmup") }
            let norm = grads.withUnsafeMutableBufferPointer { state.apply(grads: $0.baseAddress!, lr: lr) }
            state.step += 1
            windowSteps += 1
            let done = state.step
            if done % t.log_every == 0 || done == t.steps {
                let seconds = Date().timeIntervalSince(windowStart)
                var o = JSONObject()
                o["kind"] = "train"; o["step"] = JSONValue(done)
                o["loss"] = .number(v.total); o["mel"] = .number(v.mel); o["stft"] = .number(v.stft)
                o["lr"] = .number(lr); o["grad_norm"] = .number(Double(norm))
                if let a = terms {
                    o["d_loss"] = .number(a.dLoss); o["d_mpd"] = .number(a.dPeriod); o["d_mrd"] = .number(a.dResolution)
                    o["gen"] = .number(a.gen); o["fm"] = .number(a.fm)
                }
                o["steps_per_s"] = .number(Double(windowSteps) / seconds)
                o["samples_per_s"] = .number(Double(windowSteps * t.batch) / seconds)
                log?.write(o)
                windowStart = Date(); windowSteps = 0
            }
            let rate = Double(done - firstStep) / max(Date().timeIntervalSince(runStart), 1e-9)
            progress?.update(done, note: String(format: "loss %.4f  mel %.3f  stft %.3f  %.2f steps/s  ETA %@", v.total, v.mel, v.stft,
                                               rate, Trainer.clock(Double(t.steps - done) / rate)))
            let end = try Trainer.endOfStep(done, of: t.steps, validateEvery: heldOut == nil ? nil : t.val_every,
                                            checkpointEvery: t.checkpoint_every, progress: progress, lastSaved: &lastSaved,
                                            release: { step.releaseMemory(); adversary?.releaseMemory() }, validate: { self.validate(heldOut!, step) },
                                            save: { try self.checkpoint(final: $0) }, plot: { try self.plot?(self.logPath) })
            if let end { return end }
        }
        progress?.finish()
        return .finished(checkpoint: lastSaved)
    }

    /// The loss of the EMA weights on the held-out crops, logged as a `val` line.
    private func validate(_ batches: [(mel: [Float], audio: [Float], count: Int)], _ step: VocoderStep) {
        var total = 0.0, mel = 0.0, stft = 0.0, n = 0
        for b in batches {
            let v = state.ema.withUnsafeBufferPointer { p in
                b.mel.withUnsafeBufferPointer { m in
                    b.audio.withUnsafeBufferPointer { a in
                        step.run(params: p.baseAddress!, grads: nil, mel: m.baseAddress!, audio: a.baseAddress!, batch: b.count, frames: data.segment)
                    }
                }
            }
            total += v.total * Double(b.count); mel += v.mel * Double(b.count); stft += v.stft * Double(b.count); n += b.count
        }
        step.releaseMemory()
        var o = JSONObject()
        o["kind"] = "val"; o["step"] = JSONValue(state.step)
        o["loss"] = .number(total / Double(n)); o["mel"] = .number(mel / Double(n)); o["stft"] = .number(stft / Double(n))
        log?.write(o)
    }

    private func checkpoint(final: Bool) throws -> String {
        try Trainer.saveCheckpoint(in: directory, step: state.step, keep: state.run.train.keep, final: final, save: state.save)
    }

    /// Redraws the `bsq-plot curves` figure of the log into `png` at every checkpoint.
    public func plotCurves(into png: String) {
        let title = "bsq-train vocoder: " + (state.run.vocoder.name ?? "vocoder") + " (" + directory + ")"
        plot = { log in try TrainingLog.writeCurves(log: log, title: title, to: png) }
    }
}

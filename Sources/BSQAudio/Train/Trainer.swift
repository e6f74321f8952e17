import Foundation

/// The training loop of `bsq-train train`: batches made ahead in the
/// background, a `TrainingStep` per batch, gradient clipping, AdamW at the
/// scheduled learning rate, the EMA update; JSON log lines, validation with
/// the EMA weights, checkpoints (the last `keep` of them kept) and a save on
/// SIGINT/SIGTERM.
public final class Trainer {
    public let state: TrainingState
    public let data: TrainingData
    public let validation: ValidationSet?
    public let directory: String
    public let threads: Int
    public var logPath: String
    /// Where the steps done are shown (nil: nowhere).
    public var progress: ProgressDisplay?
    public var plot: ((String) throws -> Void)?
    /// The processes of a data-parallel run: each takes its part of every
    /// batch and of the held-out set; rank 0 alone writes the log, the plot
    /// and the checkpoints. `SingleProcess`: a run in this process alone.
    public var collective: Collective = SingleProcess()
    private var log: RunLog?

    /// Checkpoint file of `step` in the run folder.
    public static func checkpointName(step: Int) -> String { String(format: "step-%08d.safetensors", step) }
    public static let finalName = "model.safetensors"

    public init(state: TrainingState, data: TrainingData, validation: ValidationSet?, directory: String,
                log: String?, threads: Int) {
        self.state = state
        self.data = data
        self.validation = validation
        self.directory = directory
        self.threads = threads
        logPath = log ?? directory + "/log.jsonl"
    }

    /// Step checkpoints in `directory`, oldest first.
    public static func checkpoints(in directory: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { n -> (Int, String)? in
            guard n.hasPrefix("step-"), n.hasSuffix(".safetensors"), let s = Int(n.dropFirst(5).dropLast(12)) else { return nil }
            return (s, directory + "/" + n)
        }.sorted { $0.0 < $1.0 }
    }

    /// The checkpoint to resume from when given a run folder: its latest step checkpoint or final model.
    public static func latest(in directory: String) throws -> String {
        var best = checkpoints(in: directory).last
        let final = directory + "/" + finalName
        if FileManager.default.fileExists(atPath: final), let s = try? SafeTensors(path: final),
           let st = s.metadata["step"].flatMap({ Int($0) }), st >= (best?.step ?? -1) {
            best = (st, final)
        }
        guard let best else { throw BSQError("\(directory): no checkpoint to resume from") }
        return best.path
    }

    /// How a run ended: at its last step, or saved after `Interruption`
    /// (the signal number; the tool exits with 128 + it).
    public enum Outcome: Equatable {
        case finished(checkpoint: String)
        case interrupted(signal: Int32, checkpoint: String)
    }

    /// Runs from the state's step to `run.train.steps`. Returns only once the
    /// batch prefetcher has stopped and the log is closed, so the caller may exit.
    @discardableResult
    public func run(resumed: Bool) throws -> Outcome {
        let t = state.run.train, c = state.run.model
        let all = collective, writer = all.rank == 0, part = all.part(of: t.batch)
        if writer { log = try RunLog(path: logPath, keepingUpTo: resumed ? state.step : nil, stale: logPath == directory + "/log.jsonl") }
        defer { log?.close() }
        let step = TrainingStep(config: c, batch: part.count, recompute: t.recompute, threads: threads)
        step.loss = t.loss(c)
        step.loss.threads = threads
        step.maskedLossOnly = t.maskedLossOnly
        if all.size > 1 { step.across = all }
        if state.run.disc.enabled {
            step.adversarial = AdversarialStep(model: c, config: state.run.disc, batch: part.count, threads: threads)
            step.adversarial?.across = step.across
        }
        var discGrads = [Float](repeating: 0, count: state.discriminator?.layout.count ?? 0)
        let prefetch = BatchPrefetcher(data, batch: t.batch, part: part, from: state.step)
        defer { prefetch.stop() }
        var grads = [Float](repeating: 0, count: state.layout.count)
        var windowStart = Date(), windowSteps = 0
        let runStart = Date(), firstStep = state.step
        var lastSaved = ""
        if state.step == 0, let validation { try validate(validation) }
        while state.step < t.steps {
            let s = state.step
            let mel = try prefetch.take(s)
            let lr = t.learningRate(step: s)
            let disc = state.discriminator
            var discParams = disc?.params ?? []
            let masks = t.maskRatio > 0 ? data.masks(step: s, size: t.batch, ratio: t.maskRatio, part: part) : []
            let r = state.params.withUnsafeMutableBufferPointer { p in
                grads.withUnsafeMutableBufferPointer { g in
                    discParams.withUnsafeMutableBufferPointer { d in
                        discGrads.withUnsafeMutableBufferPointer { dg in
                            mel.withUnsafeBufferPointer { m in
                                masks.withUnsafeBufferPointer { k in
                                    step.run(params: p.baseAddress!, grads: g.baseAddress!, mel: m.baseAddress!, step: s,
                                             mask: masks.isEmpty ? nil : k.baseAddress!,
                                             disc: disc == nil ? nil : d.baseAddress!, discGrads: disc == nil ? nil : dg.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            if let disc {
                disc.params = discParams      // running statistics of its calls
                if r.adversarial != nil {
                    if all.size > 1 { discGrads.withUnsafeMutableBufferPointer { all.sum($0.baseAddress!, count: $0.count) } }
                    discGrads.withUnsafeMutableBufferPointer { disc.apply(grads: $0.baseAddress!, run: state.run, step: s) }
                }
            }
            guard r.total.isFinite else {
                throw BSQError("step \(s + 1): the loss is \(r.total); lower train.lr or raise train.warmup")
            }
            if all.size > 1 { grads.withUnsafeMutableBufferPointer { all.sum($0.baseAddress!, count: $0.count) } }
            let norm = grads.withUnsafeMutableBufferPointer { state.apply(grads: $0.baseAddress!, lr: lr) }
            state.step += 1
            windowSteps += 1
            let done = state.step
            if done % t.log_every == 0 || done == t.steps {
                let seconds = Date().timeIntervalSince(windowStart)
                var codes = CodeStatistics(bits: c.embed_dim)
                for tokens in all.gather(r.tokens) { codes.add(tokens: tokens, seconds: 1) }
                var o = JSONObject()
                o["kind"] = "train"
                o["step"] = JSONValue(done)
                o["loss"] = .number(r.total)
                o["l1"] = .number(r.l1)
                o["l1_db"] = .number(r.l1 * (c.db_max - c.db_min) / 2)
                o["commit"] = .number(r.quantizer.commit)
                o["h_ps"] = .number(r.quantizer.hPerSample)
                o["h_cb"] = .number(r.quantizer.hCodebook)
                o["lq"] = .number(r.quantizer.lq)
                o["lambda_q"] = .number(r.lambdaQ)
                o["lr"] = .number(lr)
                o["grad_norm"] = .number(Double(norm))
                o["code_entropy"] = .number(codes.entropy)
                o["code_usage"] = JSONValue(codes.distinct)
                if let a = r.adversarial {
                    o["g_loss"] = .number(a.gLoss); o["d_loss"] = .number(a.dLoss); o["d_weight"] = .number(a.dWeight)
                    o["logits_real"] = .number(a.logitsReal); o["logits_fake"] = .number(a.logitsFake)
                }
                if all.size > 1 { o["comm_s"] = .number(all.takeSeconds() / Double(windowSteps)) }
                o["steps_per_s"] = .number(Double(windowSteps) / seconds)
                o["samples_per_s"] = .number(Double(windowSteps * t.batch) / seconds)
                log?.write(o)
                windowStart = Date(); windowSteps = 0
            }
            let elapsed = Date().timeIntervalSince(runStart), rate = Double(done - firstStep) / max(elapsed, 1e-9)
            progress?.update(done, note: String(format: "loss %.4f  L1 %.2f dB  %.2f steps/s  ETA %@", r.total,
                                               r.l1 * (c.db_max - c.db_min) / 2, rate, Trainer.clock(Double(t.steps - done) / rate)))
            let end = try Trainer.endOfStep(done, of: t.steps, signal: Int32(all.maximum(Int(Interruption.signal))),
                                            validateEvery: validation == nil ? nil : t.val_every,
                                            checkpointEvery: t.checkpoint_every, progress: progress, lastSaved: &lastSaved,
                                            release: step.releaseMemory, validate: { try self.validate(validation!) },
                                            save: { try self.checkpoint(final: $0) }, plot: { if writer { try self.plot?(self.logPath) } })
            if let end { return end }
        }
        progress?.finish()
        return .finished(checkpoint: lastSaved)
    }

    /// Evaluates the EMA weights on the held-out set and logs a `val` line.
    private func validate(_ v: ValidationSet) throws {
        let c = state.run.model
        let r = v.evaluate(config: c, weights: state.ema, threads: threads, across: collective.size > 1 ? collective : nil)
        var o = JSONObject()
        o["kind"] = "val"
        o["step"] = JSONValue(state.step)
        o["l1_db"] = .number(r.spec.mae)
        o["lsd"] = .number(r.spec.lsd)
        o["code_entropy"] = .number(r.codes.entropy)
        o["code_usage"] = JSONValue(r.codes.distinct)
        o["usage"] = .number(r.codes.usage)
        o["bits_per_s"] = .number(r.codes.bitsPerSecond)
        log?.write(o)
    }

    /// The end of step `done` of `steps` in either trainer: validation and a
    /// checkpoint when due (after `release` gives the step's buffers back, as
    /// both make buffers of their own), the plot redrawn at each checkpoint,
    /// and on SIGINT/SIGTERM a save and the outcome that ends the run.
    /// `signal`: the one received (0: none; in a data-parallel run, by any process).
    static func endOfStep(_ done: Int, of steps: Int, signal: Int32 = Interruption.signal, validateEvery: Int?, checkpointEvery: Int,
                          progress: ProgressDisplay?, lastSaved: inout String, release: () -> Void, validate: () throws -> Void,
                          save: (_ final: Bool) throws -> String, plot: () throws -> Void) throws -> Outcome? {
        let interrupted = signal != 0
        let validating = validateEvery.map { done % $0 == 0 || done == steps } ?? false
        let saving = done % checkpointEvery == 0 || interrupted || done == steps
        if validating || saving { release() }
        if validating {
            progress?.finish()
            try validate()
        }
        if saving {
            progress?.finish()
            lastSaved = try save(done == steps)
            try plot()
        }
        guard interrupted else { return nil }
        progress?.finish()
        return .interrupted(signal: signal, checkpoint: lastSaved)
    }

    /// Saves a step checkpoint (removing the oldest beyond `keep`), and at
    /// the end also the final model; rank 0 alone writes, the others name the file.
    private func checkpoint(final: Bool) throws -> String {
        guard collective.rank == 0 else { return directory + "/" + (final ? Trainer.finalName : Trainer.checkpointName(step: state.step)) }
        return try Trainer.saveCheckpoint(in: directory, step: state.step, keep: state.run.train.keep, final: final, save: state.save)
    }

    /// A run's checkpoint of `step` in `directory` written by `save`, the oldest
    /// beyond `keep` removed; at the end also the final model. Returns the last path written.
    static func saveCheckpoint(in directory: String, step: Int, keep: Int, final: Bool, save: (String) throws -> Void) throws -> String {
        let path = directory + "/" + checkpointName(step: step)
        try save(path)
        for old in checkpoints(in: directory).dropLast(keep) { unlink(old.path) }
        guard final else { return path }
        let f = directory + "/" + finalName
        try save(f)
        return f
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

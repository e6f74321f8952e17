/// A weight-normed `nn.Conv2d` (`torch.nn.utils.weight_norm`, dim 0): the
/// parameters `weight_g` [O, 1, 1, 1], `weight_v` [O, C, kh, kw] and `bias`
/// [O]; the convolution runs with w = g · v / ‖v‖, the norm over each output channel's row.
public struct NormedConv2d: Sendable {
    public let g: Parameter, v: Parameter, bias: Parameter
    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int)
    var patch: Int { inChannels * kernel.0 * kernel.1 }

    /// Parameters under the current scope; v drawn as PyTorch's default
    /// init draws it (variance 1/(3·fan_in)), g set to ‖v‖ by `WaveDiscriminators.initialValues`.
    init(_ p: inout ParameterBuilder, _ cin: Int, _ cout: Int, kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int)) {
        let fanIn = Double(cin * kernel.0 * kernel.1)
        g = p.tensor("weight_g", [cout, 1, 1, 1], .ones)
        v = p.tensor("weight_v", [cout, cin, kernel.0, kernel.1], .normal((1 / (3 * fanIn)).squareRoot()))
        bias = p.tensor("bias", [cout], .zeros)
        inChannels = cin; outChannels = cout
        self.kernel = kernel; self.stride = stride; self.pad = pad
    }

    func shape(height: Int, width: Int) -> Conv2dShape {
        Conv2dShape(channels: inChannels, outChannels: outChannels, height: height, width: width, kernel: kernel, stride: stride, pad: pad)
    }

    /// The effective weight [O, C·kh·kw] into `w`, and each row's ‖v‖ into `norms`.
    func weight(_ p: Weights, into w: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>) {
        let v = p[self.v], g = p[self.g], n = patch
        for o in 0..<outChannels {
            var s: Float = 0
            for i in 0..<n { s += v[o * n + i] * v[o * n + i] }
            norms[o] = s.squareRoot()
            let k = g[o] / norms[o]
            for i in 0..<n { w[o * n + i] = k * v[o * n + i] }
        }
    }

    /// From ∂/∂w, accumulates ∂/∂g = Σ ∂w·v / ‖v‖ and ∂/∂v = (g/‖v‖)(∂w − (∂g/‖v‖)·v).
    func backwardWeight(_ dw: UnsafePointer<Float>, _ p: Weights, norms: UnsafePointer<Float>, grads: ParameterBuffer) {
        let v = p[self.v], g = p[self.g], dg = grads[self.g], dv = grads[self.v], n = patch
        for o in 0..<outChannels {
            var s: Float = 0
            for i in 0..<n { s += dw[o * n + i] * v[o * n + i] }
            let gradG = s / norms[o]
            dg[o] += gradG
            let k = g[o] / norms[o], c = gradG / norms[o]
            for i in 0..<n { dv[o * n + i] += k * (dw[o * n + i] - c * v[o * n + i]) }
        }
    }
}

/// A discriminator's convolutions over one-channel images: every layer but
/// the last followed by LeakyReLU(0.1); the last (`conv_post`) gives the
/// logits. The feature maps are the outputs of layers `firstMap...` (the
/// logits included), as HiFi-GAN's and UnivNet's discriminators collect them.
public struct ConvStack: Sendable {
    public let layers: [NormedConv2d]
    public let firstMap: Int
    public static let slope: Float = 0.1

    /// Each layer's input, (activated) output and effective weight, for the backward.
    public struct Cache {
        var inputs: [UnsafeMutablePointer<Float>] = []
        public var outputs: [UnsafeMutablePointer<Float>] = []
        var weights: [UnsafeMutablePointer<Float>] = [], norms: [UnsafeMutablePointer<Float>] = []
        public let shapes: [Conv2dShape]
        public let batch: Int
        public var logits: UnsafeMutablePointer<Float> { outputs.last! }
        public var logitCount: Int { batch * shapes.last!.outputCount }
    }

    func shapes(height: Int, width: Int) -> [Conv2dShape] {
        var h = height, w = width
        return layers.map { l in
            let s = l.shape(height: h, width: w)
            h = s.outHeight; w = s.outWidth
            return s
        }
    }

    /// Images [batch, 1, height, width] through the layers; buffers from `arena`.
    func forward(_ p: Weights, images: UnsafeMutablePointer<Float>, batch: Int, height: Int, width: Int,
                 arena: Arena, threads: Int) -> Cache {
        var cache = Cache(shapes: shapes(height: height, width: width), batch: batch)
        let workers = Workers(threads: threads, rows: batch, blockRows: 1)
        var x = images
        for (i, (l, s)) in zip(layers, cache.shapes).enumerated() {
            let w = arena.allocate(s.outChannels * s.patch), norms = arena.allocate(s.outChannels)
            l.weight(p, into: w, norms: norms)
            let y = arena.allocate(batch * s.outputCount)
            let mark = arena.mark()
            let cols = arena.allocate(workers.threads * s.patch * s.positions)
            let input = x
            workers.tasks(batch) { b, worker in
                Conv2d.forward(y + b * s.outputCount, input + b * s.inputCount, weight: w, bias: p[l.bias],
                               cols: cols + worker * s.patch * s.positions, s)
                if i < layers.count - 1 { LeakyReLU.forward(y + b * s.outputCount, count: s.outputCount, slope: ConvStack.slope) }
            }
            arena.release(mark)
            cache.inputs.append(x); cache.outputs.append(y); cache.weights.append(w); cache.norms.append(norms)
            x = y
        }
        return cache
    }

    /// The backward from `dout[i]`, the gradients arriving at layer i's output
    /// (nil: none; the last entry is ∂/∂logits): accumulates the parameters'
    /// gradients into `grads` (when given) and returns ∂/∂images (when
    /// `inputGradient`), from `scratch`. `dout` buffers are consumed.
    /// Weight gradients are summed image by image in order (any thread count, the same sums).
    func backward(_ p: Weights, _ cache: Cache, dout: [UnsafeMutablePointer<Float>?], grads: ParameterBuffer?, inputGradient: Bool,
                  scratch: Arena, threads: Int) -> UnsafeMutablePointer<Float>? {
        let batch = cache.batch, workers = Workers(threads: threads, rows: batch, blockRows: 1)
        var d: UnsafeMutablePointer<Float>? = nil
        for (i, l) in layers.enumerated().reversed() {
            let s = cache.shapes[i], count = batch * s.outputCount
            if let extra = dout[i] {
                if let dd = d { Vector.add(dd, extra, count) } else { d = extra }
            }
            guard let dy = d else { continue }          // nothing reaches this layer yet
            if i < layers.count - 1 { LeakyReLU.backward(dy, y: cache.outputs[i], count: count, slope: ConvStack.slope) }
            let wantInput = i > 0 || inputGradient
            let dx = wantInput ? scratch.zeros(batch * s.inputCount) : nil
            let weights = s.outChannels * s.patch, stride = weights + s.outChannels
            let partial = grads == nil ? nil : scratch.zeros(batch * stride)
            let mark = scratch.mark()
            let cols = scratch.allocate(workers.threads * s.patch * s.positions), dcols = scratch.allocate(workers.threads * s.patch * s.positions)
            let w = cache.weights[i], input = cache.inputs[i]
            workers.tasks(batch) { b, worker in
                let part = partial.map { $0 + b * stride }
                Conv2d.backward(dx: dx.map { $0 + b * s.inputCount }, dweight: part, dbias: part.map { $0 + weights },
                                dout: dy + b * s.outputCount, x: input + b * s.inputCount, weight: w,
                                cols: cols + worker * s.patch * s.positions, dcols: dcols + worker * s.patch * s.positions, s)
            }
            scratch.release(mark)
            if let grads, let partial {
                for b in 1..<max(batch, 1) { Vector.add(partial, partial + b * stride, stride) }
                l.backwardWeight(partial, p, norms: cache.norms[i], grads: grads)
                Vector.add(grads[l.bias], partial + weights, s.outChannels)
            }
            d = dx
        }
        return d
    }
}

/// Vocos's discriminators for adversarial vocoder training (docs/vocoder.md):
/// - the multi-period discriminator of HiFi-GAN, one sub-discriminator per
///   period p: the waveform reflect-padded at its end to a multiple of p, seen
///   as an image [T/p, p], through convolutions (5, 1) with stride (3, 1) of
///   `mpd_channels` (the last with stride 1) and `conv_post` (3, 1); feature
///   maps from the second layer on;
/// - the multi-resolution discriminator of UnivNet as Vocos has it, one per
///   (n_fft, hop, win): |STFT| with a rectangular window (center, reflect) as
///   an image [n_fft/2 + 1, frames], convolutions (7,5)/s(2,2), (5,3)/s(2,1),
///   (5,3)/s(2,2), 3/s(2,1), 3/s(2,2) of `mrd_channels`, and `conv_post` 3×3;
///   every layer's output a feature map.
/// Keys as Vocos's modules: `multiperioddisc.discriminators.<i>.convs.<j>.weight_g|weight_v|bias`,
/// `….conv_post.*`, and `multiresddisc.discriminators.<i>.…` alike.
public struct WaveDiscriminators: Sendable {
    public let config: VocoderDiscConfig
    let periods: [(period: Int, stack: ConvStack)]
    let resolutions: [(analysis: SpectralLoss.Analysis, stack: ConvStack)]
    public let layout: ParameterLayout
    var stacks: [ConvStack] { periods.map(\.stack) + resolutions.map(\.stack) }

    public init(_ c: VocoderDiscConfig) {
        config = c
        var p = ParameterBuilder()
        func conv(_ p: inout ParameterBuilder, _ name: String, _ cin: Int, _ cout: Int, _ k: (Int, Int), _ s: (Int, Int), _ pad: (Int, Int)) -> NormedConv2d {
            p.scope(name) { NormedConv2d(&$0, cin, cout, kernel: k, stride: s, pad: pad) }
        }
        var periods: [(period: Int, stack: ConvStack)] = []
        var resolutions: [(analysis: SpectralLoss.Analysis, stack: ConvStack)] = []
        p.scope("multiperioddisc") { q in
            q.scope("discriminators") { q in
                for (i, period) in c.periods.enumerated() {
                    let stack = q.scope("\(i)") { q in
                        var layers: [NormedConv2d] = []
                        q.scope("convs") { q in
                            var cin = 1
                            for (j, cout) in c.mpd_channels.enumerated() {
                                let last = j == c.mpd_channels.count - 1
                                layers.append(conv(&q, "\(j)", cin, cout, (5, 1), (last ? 1 : 3, 1), (2, 0)))
                                cin = cout
                            }
                        }
                        layers.append(conv(&q, "conv_post", c.mpd_channels.last!, 1, (3, 1), (1, 1), (1, 0)))
                        return ConvStack(layers: layers, firstMap: 1)
                    }
                    periods.append((period, stack))
                }
            }
        }
        p.scope("multiresddisc") { q in
            q.scope("discriminators") { q in
                for (i, r) in c.resolutions.enumerated() {
                    let ch = c.mrd_channels
                    let stack = q.scope("\(i)") { q in
                        var layers: [NormedConv2d] = []
                        q.scope("convs") { q in
                            layers.append(conv(&q, "0", 1, ch, (7, 5), (2, 2), (3, 2)))
                            layers.append(conv(&q, "1", ch, ch, (5, 3), (2, 1), (2, 1)))
                            layers.append(conv(&q, "2", ch, ch, (5, 3), (2, 2), (2, 1)))
                            layers.append(conv(&q, "3", ch, ch, (3, 3), (2, 1), (1, 1)))
                            layers.append(conv(&q, "4", ch, ch, (3, 3), (2, 2), (1, 1)))
                        }
                        layers.append(conv(&q, "conv_post", ch, 1, (3, 3), (1, 1), (1, 1)))
                        return ConvStack(layers: layers, firstMap: 0)
                    }
                    let res = SpectralLoss.Resolution(nFFT: r[0], hop: r[1], win: r[2])
                    var window = [Float](repeating: 0, count: res.nFFT)        // torch.stft's window=None: ones(win) centred
                    for i in 0..<res.win { window[(res.nFFT - res.win) / 2 + i] = 1 }
                    resolutions.append((SpectralLoss.Analysis(r: res, window: window, fft: RealFFT.shared(res.nFFT), filterbank: nil), stack))
                }
            }
        }
        self.periods = periods
        self.resolutions = resolutions
        layout = ParameterLayout(p.parameters)
    }

    /// A fresh set of weights: v drawn, biases 0, g = ‖v‖ (so w = v at the start, as `weight_norm` leaves a layer).
    public func initialValues(seed: UInt64) -> [Float] {
        var w = layout.initialValues(seed: seed)
        w.withUnsafeMutableBufferPointer { b in
            let p = Weights(UnsafePointer(b.baseAddress!), layout), out = ParameterBuffer(b.baseAddress!)
            for l in stacks.flatMap(\.layers) {
                let v = p[l.v], g = out[l.g], n = l.patch
                for o in 0..<l.outChannels {
                    var s: Float = 0
                    for i in 0..<n { s += v[o * n + i] * v[o * n + i] }
                    g[o] = s.squareRoot()
                }
            }
        }
        return w
    }

    /// The shortest waveform the discriminators take (the reflect paddings need more than n_fft/2 and p samples).
    public var minimumLength: Int {
        max((config.resolutions.map { $0[0] / 2 + 1 }.max() ?? 1), (config.periods.max() ?? 1) + 1)
    }

    /// All sub-discriminators' caches for waveforms [batch, L], and the MRD's spectra for the backward.
    public struct Pass {
        public var caches: [ConvStack.Cache] = []
        var spectra: [[[Float]]] = []
        public let batch: Int, length: Int
    }

    /// Every sub-discriminator on `audio` [batch, length] (rows `stride` apart); buffers from `arena`.
    public func forward(_ p: Weights, audio: UnsafePointer<Float>, stride: Int, batch B: Int, length L: Int,
                        arena: Arena, threads: Int) -> Pass {
        precondition(L >= minimumLength, "waveforms of \(L) samples are too short for the discriminators")
        var pass = Pass(batch: B, length: L)
        let workers = Workers(threads: threads, rows: B, blockRows: 1)
        for (period, stack) in periods {
            let n = (L + period - 1) / period * period
            let images = arena.allocate(B * n)
            for b in 0..<B {
                let row = images + b * n, x = audio + b * stride
                row.update(from: x, count: L)
                for j in L..<n { row[j] = x[STFT.reflectIndex(j, length: L)] }
            }
            pass.caches.append(stack.forward(p, images: images, batch: B, height: n / period, width: period, arena: arena, threads: threads))
        }
        for (a, stack) in resolutions {
            let F = a.frames(L), bins = a.bins
            let images = arena.allocate(B * bins * F)
            var spectra = [[Float]](repeating: [], count: B)
            spectra.withUnsafeMutableBufferPointer { sp in
                workers.tasks(B) { b, _ in
                    let spec = SpectralLoss.analyze(a, audio + b * stride, L)
                    let image = images + b * bins * F
                    for t in 0..<F {
                        for k in 0..<bins {
                            let re = spec[2 * (t * bins + k)], im = spec[2 * (t * bins + k) + 1]
                            image[k * F + t] = (re * re + im * im).squareRoot()
                        }
                    }
                    sp[b] = spec
                }
            }
            pass.spectra.append(spectra)
            pass.caches.append(stack.forward(p, images: images, batch: B, height: bins, width: F, arena: arena, threads: threads))
        }
        return pass
    }

    /// The backward of `pass` from `dout[s][i]`, the gradient at layer i's
    /// output of sub-discriminator s (the order of `pass.caches`): parameter
    /// gradients into `grads` (when given); ∂/∂audio added into `daudio` [batch, L] (rows `stride` apart), when given.
    public func backward(_ p: Weights, _ pass: Pass, dout: [[UnsafeMutablePointer<Float>?]], grads: ParameterBuffer?,
                         daudio: UnsafeMutablePointer<Float>?, stride: Int, scratch: Arena, threads: Int) {
        let B = pass.batch, L = pass.length, workers = Workers(threads: threads, rows: B, blockRows: 1)
        for (s, (period, stack)) in periods.enumerated() {
            let mark = scratch.mark()
            defer { scratch.release(mark) }
            guard let d = stack.backward(p, pass.caches[s], dout: dout[s], grads: grads, inputGradient: daudio != nil,
                                         scratch: scratch, threads: threads), let daudio else { continue }
            let n = (L + period - 1) / period * period
            for b in 0..<B {
                let row = d + b * n, g = daudio + b * stride
                for j in 0..<L { g[j] += row[j] }
                for j in L..<n { g[STFT.reflectIndex(j, length: L)] += row[j] }
            }
        }
        for (r, (a, stack)) in resolutions.enumerated() {
            let s = periods.count + r
            let mark = scratch.mark()
            defer { scratch.release(mark) }
            guard let d = stack.backward(p, pass.caches[s], dout: dout[s], grads: grads, inputGradient: daudio != nil,
                                         scratch: scratch, threads: threads), let daudio else { continue }
            let F = a.frames(L), bins = a.bins
            workers.tasks(B) { b, _ in
                var spec = pass.spectra[r][b]
                let image = d + b * bins * F
                for t in 0..<F {
                    for k in 0..<bins {
                        let j = t * bins + k, re = spec[2 * j], im = spec[2 * j + 1], m = (re * re + im * im).squareRoot()
                        let dm = image[k * F + t]
                        spec[2 * j] = m > 0 ? dm * re / m : 0
                        spec[2 * j + 1] = m > 0 ? dm * im / m : 0
                    }
                }
                SpectralLoss.synthesizeGradient(a, spec, L, into: daudio + b * stride)
            }
        }
    }
}

/// The adversarial side of a vocoder training step (Vocos's losses; docs/vocoder.md):
///     D:  Σ_p hinge_p / P  +  mrd_weight · Σ_r hinge_r / R,   hinge = mean relu(1 − D(y)) + mean relu(1 + D(ŷ))
///     G:  weight · (Σ_p (adv_p + fm_p) / P  +  mrd_weight · Σ_r (adv_r + fm_r) / R),
///         adv = mean relu(1 − D(ŷ)),  fm = Σ_maps mean |map(y) − map(ŷ)|
/// with P periods and R resolutions. A step runs the discriminator's update
/// first (on the generator's output, detached) and then the generator's
/// terms through the updated discriminator, as Vocos's two optimizer steps do.
public final class VocoderAdversary {
    public let discriminators: WaveDiscriminators
    public let threads: Int
    private let arena = Arena(), scratch = Arena()

    public init(_ config: VocoderDiscConfig, threads: Int) {
        discriminators = WaveDiscriminators(config)
        self.threads = max(1, threads)
    }

    public struct Terms: Sendable {
        public var dLoss = 0.0, dPeriod = 0.0, dResolution = 0.0
        public var gen = 0.0, fm = 0.0
        public init() {}
    }

    /// Each sub-discriminator's weight in the sums: 1/P or mrd_weight/R.
    var scales: [Double] {
        let c = discriminators.config
        return c.periods.map { _ in 1 / Double(c.periods.count) } + c.resolutions.map { _ in c.mrd_weight / Double(c.resolutions.count) }
    }

    /// The discriminator's loss on `real` [batch, L] and `fake` (rows `stride`
    /// apart), and its gradient into `grads` (overwritten).
    public func discriminatorStep(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>, real: UnsafePointer<Float>,
                                  fake: UnsafePointer<Float>, stride: Int, batch B: Int, length L: Int, terms: inout Terms) {
        arena.reset(); scratch.reset()
        let d = discriminators, w = Weights(params, d.layout)
        grads.initialize(repeating: 0, count: d.layout.count)
        let pr = d.forward(w, audio: real, stride: L, batch: B, length: L, arena: arena, threads: threads)
        let pf = d.forward(w, audio: fake, stride: stride, batch: B, length: L, arena: arena, threads: threads)
        var dReal: [[UnsafeMutablePointer<Float>?]] = [], dFake: [[UnsafeMutablePointer<Float>?]] = []
        terms.dPeriod = 0; terms.dResolution = 0
        for (s, scale) in scales.enumerated() {
            let n = pr.caches[s].logitCount, layers = pr.caches[s].shapes.count
            let gr = scratch.allocate(n), gf = scratch.allocate(n)
            var lr = 0.0, lf = 0.0
            let k = Float(scale / Double(n))
            for i in 0..<n {
                let a = 1 - pr.caches[s].logits[i], b = 1 + pf.caches[s].logits[i]
                lr += Double(max(a, 0)); lf += Double(max(b, 0))
                gr[i] = a > 0 ? -k : 0
                gf[i] = b > 0 ? k : 0
            }
            let hinge = (lr + lf) / Double(n)
            if s < d.periods.count { terms.dPeriod += hinge / Double(d.periods.count) } else { terms.dResolution += hinge / Double(d.resolutions.count) }
            dReal.append(Array(repeating: nil, count: layers - 1) + [gr])
            dFake.append(Array(repeating: nil, count: layers - 1) + [gf])
        }
        terms.dLoss = terms.dPeriod + d.config.mrd_weight * terms.dResolution
        let g = ParameterBuffer(grads)
        d.backward(w, pr, dout: dReal, grads: g, daudio: nil, stride: L, scratch: scratch, threads: threads)
        d.backward(w, pf, dout: dFake, grads: g, daudio: nil, stride: stride, scratch: scratch, threads: threads)
    }

    /// The generator's adversarial and feature-matching terms of `fake` (rows
    /// `stride` apart) against `real` [batch, L]: their gradient (times
    /// `weight`) added into `gradient` (the layout of `fake`); returns them unweighted.
    public func generatorTerms(params: UnsafePointer<Float>, real: UnsafePointer<Float>, fake: UnsafePointer<Float>, stride: Int,
                               batch B: Int, length L: Int, gradient: UnsafeMutablePointer<Float>, terms: inout Terms) {
        arena.reset(); scratch.reset()
        let d = discriminators, w = Weights(params, d.layout), weight = d.config.weight
        let pr = d.forward(w, audio: real, stride: L, batch: B, length: L, arena: arena, threads: threads)
        let pf = d.forward(w, audio: fake, stride: stride, batch: B, length: L, arena: arena, threads: threads)
        var dout: [[UnsafeMutablePointer<Float>?]] = []
        terms.gen = 0; terms.fm = 0
        for (s, scale) in scales.enumerated() {
            let cr = pr.caches[s], cf = pf.caches[s], layers = cf.shapes.count
            var maps = [UnsafeMutablePointer<Float>?](repeating: nil, count: layers)
            for i in d.stacks[s].firstMap..<layers {
                let n = B * cf.shapes[i].outputCount, g = scratch.zeros(n), k = Float(weight * scale / Double(n))
                var sum = 0.0
                for j in 0..<n {
                    let e = cf.outputs[i][j] - cr.outputs[i][j]
                    sum += Double(abs(e))
                    g[j] = e > 0 ? k : e < 0 ? -k : 0
                }
                terms.fm += scale * sum / Double(n)
                maps[i] = g
            }
            let n = cf.logitCount, g = maps[layers - 1]!, k = Float(weight * scale / Double(n))
            var sum = 0.0
            for j in 0..<n {
                let a = 1 - cf.logits[j]
                sum += Double(max(a, 0))
                if a > 0 { g[j] -= k }
            }
            terms.gen += scale * sum / Double(n)
            dout.append(maps)
        }
        d.backward(w, pf, dout: dout, grads: nil, daudio: gradient, stride: stride, scratch: scratch, threads: threads)
    }

    /// Gives the buffers' memory back (before validation and checkpoints).
    public func releaseMemory() { arena.trim(); scratch.trim() }
}

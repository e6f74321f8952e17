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

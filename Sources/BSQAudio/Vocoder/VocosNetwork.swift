/// The neural vocoder (Vocos: a ConvNeXt backbone at frame rate, an
/// inverse-STFT head), as typed layers with PyTorch's keys, its forward
/// and its backward side by side (docs/vocoder.md):
///
///     x  = 2·(clamp(dB, db_min, db_max) − db_min)/(db_max − db_min) − 1      [T, n_mels]
///     x  = LayerNorm(Conv1d_K(x))                       backbone.embed, backbone.norm (eps 1e-6)
///     repeat `layers` times (backbone.convnext.<i>):
///         x = x + γ ⊙ pwconv2(GELU(pwconv1(LayerNorm(dwconv_K(x)))))
///     x  = LayerNorm(x)                                 backbone.final_layer_norm
///     h  = head.out(x) = [log|S| ‖ φ]                   [T, n_fft + 2]
///     y  = ISTFT(min(e^{log|S|}, 100) · e^{iφ})         `InverseSTFTHead`, T·hop samples
///
/// Rows are frames, channels last; a batch is sequences of the same length
/// one after the other. Training keeps what the backward needs in the
/// pass's arena; inference keeps one activation and works block by block.
public struct VocosNetwork: Sendable {
    public struct Block: Sendable {
        public let dwWeight: Parameter, dwBias: Parameter
        public let norm: Norm
        public let pwconv1: Dense, pwconv2: Dense
        public let gamma: Parameter
    }

    public let config: VocoderConfig
    public let embedWeight: Parameter, embedBias: Parameter
    public let norm: Norm
    public let blocks: [Block]
    public let finalNorm: Norm
    public let head: Dense
    public let istft: InverseSTFTHead
    public let layout: ParameterLayout
    public static let normEps = 1e-6

    public init(_ c: VocoderConfig) {
        config = c
        var p = ParameterBuilder()
        let eps = VocosNetwork.normEps, dim = c.dim
        var built: [Block] = []
        var ew: Parameter!, eb: Parameter!, n: Norm!, fn: Norm!, h: Dense!
        p.scope("backbone") { b in
            (ew, eb) = b.scope("embed") { ($0.tensor("weight", [dim, c.n_mels, c.kernel], .normal(0.02)), $0.tensor("bias", [dim], .zeros)) }
            n = b.scope("norm") { Norm(&$0, width: dim, eps: eps) }
            b.scope("convnext") { q in
                for i in 0..<c.layers {
                    built.append(q.scope("\(i)") { q in
                        let (dw, db) = q.scope("dwconv") { ($0.tensor("weight", [dim, 1, c.kernel], .normal(0.02)), $0.tensor("bias", [dim], .zeros)) }
                        let norm = q.scope("norm") { Norm(&$0, width: dim, eps: eps) }
                        let pw1 = q.scope("pwconv1") { Dense(&$0, in: dim, out: c.ffn) }
                        let pw2 = q.scope("pwconv2") { Dense(&$0, in: c.ffn, out: dim) }
                        let gamma = q.tensor("gamma", [dim], .constant(1 / Double(c.layers)))
                        return Block(dwWeight: dw, dwBias: db, norm: norm, pwconv1: pw1, pwconv2: pw2, gamma: gamma)
                    })
                }
            }
            fn = b.scope("final_layer_norm") { Norm(&$0, width: dim, eps: eps) }
        }
        h = p.scope("head") { $0.scope("out") { Dense(&$0, in: dim, out: c.nFFT + 2) } }
        embedWeight = ew; embedBias = eb; norm = n; blocks = built; finalNorm = fn; head = h
        istft = InverseSTFTHead(c)
        layout = ParameterLayout(p.parameters)
    }

    /// Width of the input convolution's unfolded rows: n_mels · kernel.
    var unfolded: Int { config.n_mels * config.kernel }

    /// The normalized input of `rows` dB rows.
    func normalize(_ out: UnsafeMutablePointer<Float>, _ db: UnsafePointer<Float>, rows: Int) {
        let c = config, lo = Float(c.db_min), hi = Float(c.db_max), scale = 2 / (hi - lo)
        for i in 0..<(rows * c.n_mels) { out[i] = (min(max(db[i], lo), hi) - lo) * scale - 1 }
    }

    /// Rows r0 ..< r0 + n of the input convolution's unfolding:
    /// cols[t, c·K + k] = x[t + k − (K−1)/2, c] within the row's sequence (zero outside).
    func unfold(_ cols: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, frames T: Int, rows r0: Int, count n: Int) {
        let m = config.n_mels, K = config.kernel, half = (K - 1) / 2, width = m * K
        for r in r0..<(r0 + n) {
            let t = r % T, row = cols + (r - r0) * width
            for k in 0..<K {
                let src = t + k - half
                if src < 0 || src >= T {
                    for c in 0..<m { row[c * K + k] = 0 }
                } else {
                    let xs = x + (r + k - half) * m
                    for c in 0..<m { row[c * K + k] = xs[c] }
                }
            }
        }
    }

    /// The depthwise convolution of every sequence along time (channels last).
    func depthwise(_ b: Block, _ w: Weights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                   sequences: Int, frames T: Int, workers: Workers) {
        let dim = config.dim
        workers.tasks(sequences) { s, _ in
            DepthwiseTimeConv.forward(out + s * T * dim, x + s * T * dim, weight: w[b.dwWeight], bias: w[b.dwBias],
                                      sequences: 1, nt: T, nf: 1, channels: dim, kernel: config.kernel)
        }
    }

    /// What a training forward keeps for the backward.
    public struct Cache {
        let batch: Int, frames: Int
        var cols: UnsafeMutablePointer<Float>!, embedded: UnsafeMutablePointer<Float>!, embedStats: RowStats!
        /// The input of each block, then the output of the last one.
        var inputs: [UnsafeMutablePointer<Float>] = []
        var convolved: [UnsafeMutablePointer<Float>] = [], stats: [RowStats] = [], normed: [UnsafeMutablePointer<Float>] = []
        var hidden: [UnsafeMutablePointer<Float>] = [], activated: [UnsafeMutablePointer<Float>] = [], mlp: [UnsafeMutablePointer<Float>] = []
        var finalStats: RowStats!, features: UnsafeMutablePointer<Float>!
        /// The head's output [rows, n_fft + 2] and the audio [batch, frames · hop].
        public var spectra: UnsafeMutablePointer<Float>!, audio: UnsafeMutablePointer<Float>!
    }

    /// The audio of `batch` sequences of `frames` dB rows each (`mel`, [batch, frames, n_mels]),
    /// keeping every activation the backward needs in `arena`.
    public func forwardTraining(_ w: Weights, mel: UnsafePointer<Float>, batch: Int, frames T: Int,
                                arena: Arena, threads: Int) -> Cache {
        let c = config, dim = c.dim, R = batch * T
        let workers = Workers(threads: threads, rows: R, blockRows: Workers.trainingBlock)
        var cache = Cache(batch: batch, frames: T)
        let x = arena.allocate(R * c.n_mels)
        normalize(x, mel, rows: R)
        cache.cols = arena.allocate(R * unfolded)
        cache.embedded = arena.allocate(R * dim)
        workers.rowBlocks { r0, n in
            unfold(cache.cols + r0 * unfolded, x, frames: T, rows: r0, count: n)
            Linear.forward(cache.embedded + r0 * dim, cache.cols + r0 * unfolded, weight: w[embedWeight], bias: w[embedBias],
                           rows: n, inDim: unfolded, outDim: dim)
        }
        cache.embedStats = RowStats(arena, count: R)
        var h = arena.allocate(R * dim)
        norm.forward(w, h, cache.embedded, stats: cache.embedStats, on: workers)
        for b in blocks {
            cache.inputs.append(h)
            let a = arena.allocate(R * dim), n = arena.allocate(R * dim), stats = RowStats(arena, count: R)
            depthwise(b, w, a, h, sequences: batch, frames: T, workers: workers)
            b.norm.forward(w, n, a, stats: stats, on: workers)
            let hid = arena.allocate(R * c.ffn), act = arena.allocate(R * c.ffn), o = arena.allocate(R * dim), next = arena.allocate(R * dim)
            b.pwconv1.forward(w, hid, n, on: workers)
            workers.rowBlocks { r0, k in
                (act + r0 * c.ffn).update(from: hid + r0 * c.ffn, count: k * c.ffn)
                Activations.geluRational(act + r0 * c.ffn, count: k * c.ffn)
            }
            b.pwconv2.forward(w, o, act, on: workers)
            let g = w[b.gamma], input = h
            workers.rowBlocks { r0, k in
                for r in r0..<(r0 + k) { for j in 0..<dim { next[r * dim + j] = input[r * dim + j] + g[j] * o[r * dim + j] } }
            }
            cache.convolved.append(a); cache.stats.append(stats); cache.normed.append(n)
            cache.hidden.append(hid); cache.activated.append(act); cache.mlp.append(o)
            h = next
        }
        cache.inputs.append(h)
        cache.finalStats = RowStats(arena, count: R)
        cache.features = arena.allocate(R * dim)
        finalNorm.forward(w, cache.features, h, stats: cache.finalStats, on: workers)
        cache.spectra = arena.allocate(R * (c.nFFT + 2))
        head.forward(w, cache.spectra, cache.features, on: workers)
        cache.audio = arena.allocate(batch * T * c.hop_length)
        let spectra = cache.spectra!, audio = cache.audio!
        workers.tasks(batch) { s, _ in
            istft.synthesize(spectra: spectra + s * T * (c.nFFT + 2), frames: T, into: audio + s * T * c.hop_length)
        }
        return cache
    }

    /// Accumulates into `grads` the gradients of a loss whose gradient with
    /// respect to `cache.audio` is `daudio` ([batch, frames · hop]); temporaries from `scratch`.
    /// Every sum runs in a fixed order, so the result does not depend on `threads`.
    public func backward(_ w: Weights, _ cache: Cache, daudio: UnsafePointer<Float>, grads g: ParameterBuffer,
                         scratch: Arena, threads: Int) {
        let c = config, dim = c.dim, T = cache.frames, batch = cache.batch, R = batch * T, width = c.nFFT + 2
        let workers = Workers(threads: threads, rows: R, blockRows: Workers.trainingBlock)
        let dspectra = scratch.allocate(R * width)
        workers.tasks(batch) { s, _ in
            istft.backward(dspectra: dspectra + s * T * width, daudio: daudio + s * T * c.hop_length,
                           spectra: cache.spectra + s * T * width, frames: T)
        }
        var d = scratch.zeros(R * dim)
        head.backward(w, g, dx: d, dout: dspectra, x: cache.features, on: workers)
        var dx = scratch.zeros(R * dim)
        finalNorm.backward(w, g, dx: dx, dout: d, x: cache.inputs[blocks.count], stats: cache.finalStats, scratch: scratch, on: workers)
        d = dx
        for (i, b) in blocks.enumerated().reversed() {
            let mark = scratch.mark()
            // the residual passes d on; the branch adds its input gradient to a copy
            let dIn = scratch.allocate(R * dim)
            dIn.update(from: d, count: R * dim)
            let gamma = w[b.gamma], dgamma = g[b.gamma], o = cache.mlp[i]
            for r in 0..<R { for j in 0..<dim { dgamma[j] += d[r * dim + j] * o[r * dim + j] } }
            let dout = scratch.allocate(R * dim)
            for r in 0..<R { for j in 0..<dim { dout[r * dim + j] = d[r * dim + j] * gamma[j] } }
            let dact = scratch.zeros(R * c.ffn)
            b.pwconv2.backward(w, g, dx: dact, dout: dout, x: cache.activated[i], on: workers)
            let hid = cache.hidden[i]
            workers.rowBlocks { r0, k in
                Activations.geluBackward(dx: dact + r0 * c.ffn, dout: dact + r0 * c.ffn, x: hid + r0 * c.ffn, count: k * c.ffn)
            }
            let dn = scratch.zeros(R * dim)
            b.pwconv1.backward(w, g, dx: dn, dout: dact, x: cache.normed[i], on: workers)
            let da = scratch.zeros(R * dim)
            b.norm.backward(w, g, dx: da, dout: dn, x: cache.convolved[i], stats: cache.stats[i], scratch: scratch, on: workers)
            let kw = dim * c.kernel, part = kw + dim, partial = scratch.zeros(batch * part), input = cache.inputs[i]
            workers.tasks(batch) { s, _ in
                let off = s * T * dim
                DepthwiseTimeConv.backward(dx: dIn + off, dweight: partial + s * part, dbias: partial + s * part + kw, dout: da + off,
                                           x: input + off, weight: w[b.dwWeight], sequences: 1, nt: T, nf: 1, channels: dim, kernel: c.kernel)
            }
            for s in 0..<batch {
                Vector.add(g[b.dwWeight], partial + s * part, kw)
                Vector.add(g[b.dwBias], partial + s * part + kw, dim)
            }
            d.update(from: dIn, count: R * dim)
            scratch.release(mark)
        }
        dx = scratch.zeros(R * dim)
        norm.backward(w, g, dx: dx, dout: d, x: cache.embedded, stats: cache.embedStats, scratch: scratch, on: workers)
        let slices = (dim + Workers.sliceRows - 1) / Workers.sliceRows, dembed = dx
        workers.tasks(slices) { t, _ in
            let o0 = t * Workers.sliceRows
            Linear.backwardWeights(dweight: g[embedWeight], dbias: g[embedBias], dout: dembed, x: cache.cols, rows: R,
                                   inDim: unfolded, outDim: dim, outputs: o0..<min(o0 + Workers.sliceRows, dim))
        }
    }

    /// Frames per block at inference: large enough that the packing of each
    /// weight matrix (once per block and sgemm) costs little against its use.
    public static let inferenceBlock = 1024

    /// Inference: the audio (frames · hop samples) of one sequence of `frames`
    /// dB rows, with buffers from `arena` (about 2·dim floats a frame, the
    /// rest by blocks of rows).
    public func synthesize(_ w: Weights, mel: UnsafePointer<Float>, frames T: Int, into audio: UnsafeMutablePointer<Float>,
                           arena: Arena, threads: Int) {
        let c = config, dim = c.dim, mark = arena.mark()
        defer { arena.release(mark) }
        let workers = Workers(threads: threads, rows: T, blockRows: VocosNetwork.inferenceBlock)
        let bs = workers.blockRows, nw = workers.threads
        let x = arena.allocate(T * c.n_mels)
        normalize(x, mel, rows: T)
        let h = arena.allocate(T * dim), a = arena.allocate(T * dim)
        let cols = arena.allocate(nw * bs * max(unfolded, c.ffn)), outs = arena.allocate(nw * bs * dim)
        workers.tasks(workers.blockCount) { i, worker in
            let r0 = i * bs, n = min(bs, T - r0), col = cols + worker * bs * max(unfolded, c.ffn)
            unfold(col, x, frames: T, rows: r0, count: n)
            Linear.forward(h + r0 * dim, col, weight: w[embedWeight], bias: w[embedBias], rows: n, inDim: unfolded, outDim: dim)
            norm.forward(w, h + r0 * dim, h + r0 * dim, rows: n)
        }
        for b in blocks {
            depthwise(b, w, a, h, sequences: 1, frames: T, workers: workers)
            let gamma = w[b.gamma]
            workers.tasks(workers.blockCount) { i, worker in
                let r0 = i * bs, n = min(bs, T - r0)
                let hid = cols + worker * bs * max(unfolded, c.ffn), o = outs + worker * bs * dim
                b.norm.forward(w, a + r0 * dim, a + r0 * dim, rows: n)
                b.pwconv1.forward(w, hid, a + r0 * dim, rows: n)
                Activations.geluRational(hid, count: n * c.ffn)
                b.pwconv2.forward(w, o, hid, rows: n)
                let xr = h + r0 * dim
                for r in 0..<n { for j in 0..<dim { xr[r * dim + j] += gamma[j] * o[r * dim + j] } }
            }
        }
        finalNorm.forward(w, h, h, stats: nil, on: workers)
        istft.synthesize(features: h, frames: T, head: head, weights: w, into: audio, arena: arena, workers: workers)
    }
}

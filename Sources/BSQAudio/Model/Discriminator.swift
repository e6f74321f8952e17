/// BSQ-ViT's PatchGAN discriminator for mel spectrograms, as a typed layer
/// list whose names are upstream's `nn.Sequential` indices
/// (`discriminator.network.<index>.weight` …), so that the same tensors load
/// into the PyTorch module. Input: normalized mel as one-channel images
/// [batch, 1, frames, n_mels] (height = time). With `ndf` = d and `layers` = 3:
///     0 conv 4×4 s2 (1→d), 1 LeakyReLU 0.2,
///     2 conv s2 (d→d), 3 BN, 4 LReLU,  5 conv s2 (d→2d), 6 BN, 7 LReLU,  8 conv s2 (2d→4d), 9 BN, 10 LReLU,
///     11 conv 4×4 s1 (4d→4d), 12 BN, 13 LReLU,  14 conv s1 (4d→1)
/// (the loop's channel multiple is min(2ⁿ, 8) for n = 0 ..< layers; every conv
/// has a bias; padding 1). BatchNorm runs in training mode with the
/// statistics of each call, as upstream calls it separately on real and fake.
public struct Discriminator: Sendable {
    public struct Layer: Sendable {
        public let weight: Parameter, bias: Parameter
        public let inChannels: Int, outChannels: Int, stride: Int
        /// The BatchNorm after the convolution (weight, bias, running mean, running variance), if any.
        public let norm: (weight: Parameter, bias: Parameter, mean: Parameter, variance: Parameter)?
        /// Whether a LeakyReLU(0.2) follows.
        public let activation: Bool
    }

    public let layers: [Layer]
    public let layout: ParameterLayout
    public static let slope: Float = 0.2

    public init(ndf: Int = 64, layers n: Int = 3) {
        var p = ParameterBuilder()
        var index = 0
        var out: [Layer] = []
        func layer(_ p: inout ParameterBuilder, _ cin: Int, _ cout: Int, stride: Int, norm: Bool, activation: Bool) {
            let (w, b) = p.scope("\(index)") { ($0.tensor("weight", [cout, cin, 4, 4], .normal(0.02)), $0.tensor("bias", [cout], .zeros)) }
            index += 1
            var bn: (Parameter, Parameter, Parameter, Parameter)?
            if norm {
                bn = p.scope("\(index)") {
                    ($0.tensor("weight", [cout], .normalAround(1, 0.02)), $0.tensor("bias", [cout], .zeros),
                     $0.tensor("running_mean", [cout], .zeros), $0.tensor("running_var", [cout], .ones))
                }
                index += 1
            }
            if activation { index += 1 }
            out.append(Layer(weight: w, bias: b, inChannels: cin, outChannels: cout, stride: stride, norm: bn, activation: activation))
        }
        p.scope("discriminator") { d in
            d.scope("network") { q in
                layer(&q, 1, ndf, stride: 2, norm: false, activation: true)
                var previous = 1, multiple = 1
                for k in 0..<n {
                    previous = multiple
                    multiple = min(1 << k, 8)
                    layer(&q, ndf * previous, ndf * multiple, stride: 2, norm: true, activation: true)
                }
                layer(&q, ndf * multiple, ndf * multiple, stride: 1, norm: true, activation: true)
                layer(&q, ndf * multiple, 1, stride: 1, norm: false, activation: false)
            }
        }
        layers = out
        layout = ParameterLayout(p.parameters)
    }

    /// The convolution shapes for images of `height` × `width`, layer by layer.
    public func shapes(height: Int, width: Int) -> [Conv2dShape] {
        var h = height, w = width
        return layers.map { l in
            let s = Conv2dShape(channels: l.inChannels, outChannels: l.outChannels, height: h, width: w, kernel: 4, stride: l.stride, pad: 1)
            h = s.outHeight; w = s.outWidth
            return s
        }
    }

    /// What the backward needs: each layer's input, its convolution output
    /// (the BatchNorm input) with the statistics, and its output.
    public struct Cache {
        public var inputs: [UnsafeMutablePointer<Float>] = []
        var conv: [UnsafeMutablePointer<Float>] = []
        var stats: [RowStats?] = []
        public var outputs: [UnsafeMutablePointer<Float>] = []
        public var logits: UnsafeMutablePointer<Float> { outputs.last! }
        let shapes: [Conv2dShape]
        let batch: Int
    }

    /// Logits [batch, 1, Ho, Wo] of images [batch, 1, height, width]; buffers
    /// from `arena`; BatchNorm statistics of this call, running ones updated in `running` when given.
    public func forward(_ w: Weights, images: UnsafeMutablePointer<Float>, batch: Int, height: Int, width: Int,
                        running: ParameterBuffer?, arena: Arena, threads: Int, across: Collective? = nil) -> Cache {
        let shapes = shapes(height: height, width: width)
        precondition(shapes.last.map { $0.outHeight > 0 && $0.outWidth > 0 } ?? false,
                     "images of \(height)×\(width) are too small for the discriminator")
        var cache = Cache(shapes: shapes, batch: batch)
        let workers = Workers(threads: threads, rows: batch, blockRows: 1)
        var x = images
        for (l, s) in zip(layers, shapes) {
            cache.inputs.append(x)
            let y = arena.allocate(batch * s.outputCount)
            let mark = arena.mark()
            let cols = arena.allocate(workers.threads * s.patch * s.positions)
            workers.tasks(batch) { b, worker in
                Conv2d.forward(y + b * s.outputCount, x + b * s.inputCount, weight: w[l.weight], bias: w[l.bias],
                               cols: cols + worker * s.patch * s.positions, s)
            }
            arena.release(mark)
            cache.conv.append(y)
            var out = y
            if let n = l.norm {
                let stats = RowStats(arena, count: s.outChannels)
                out = arena.allocate(batch * s.outputCount)
                BatchNorm2d.training(out, y, batch: batch, channels: s.outChannels, spatial: s.positions, weight: w[n.weight], bias: w[n.bias],
                                     runningMean: running.map { $0[n.mean] }, runningVariance: running.map { $0[n.variance] },
                                     mean: stats.mean, rstd: stats.rstd, across: across)
                cache.stats.append(stats)
            } else {
                cache.stats.append(nil)
            }
            if l.activation {
                if out == y { out = arena.allocate(batch * s.outputCount); out.update(from: y, count: batch * s.outputCount) }
                LeakyReLU.forward(out, count: batch * s.outputCount, slope: Discriminator.slope)
            }
            cache.outputs.append(out)
            x = out
        }
        return cache
    }

    /// From dlogits, accumulates the parameters' gradients into `grads` (when
    /// given) and returns ∂/∂images (when `inputGradient`), from `scratch`.
    /// Weight gradients are summed image by image in order (any thread count, same sums).
    @discardableResult
    public func backward(_ w: Weights, _ cache: Cache, dlogits: UnsafePointer<Float>, grads: ParameterBuffer?, inputGradient: Bool,
                         scratch: Arena, threads: Int, across: Collective? = nil) -> UnsafeMutablePointer<Float>? {
        let batch = cache.batch, workers = Workers(threads: threads, rows: batch, blockRows: 1)
        var d = scratch.allocate(batch * cache.shapes.last!.outputCount)
        d.update(from: dlogits, count: batch * cache.shapes.last!.outputCount)
        for (i, l) in layers.enumerated().reversed() {
            let s = cache.shapes[i], count = batch * s.outputCount
            if l.activation { LeakyReLU.backward(d, y: cache.outputs[i], count: count, slope: Discriminator.slope) }
            if let n = l.norm, let stats = cache.stats[i] {
                let dconv = scratch.zeros(count)
                BatchNorm2d.backward(dx: dconv, dweight: grads.map { $0[n.weight] }, dbias: grads.map { $0[n.bias] }, dout: d,
                                     x: cache.conv[i], weight: w[n.weight], mean: stats.mean, rstd: stats.rstd,
                                     batch: batch, channels: s.outChannels, spatial: s.positions, across: across)
                d = dconv
            }
            let wantInput = i > 0 || inputGradient
            let dx = wantInput ? scratch.zeros(batch * s.inputCount) : nil
            let weights = s.outChannels * s.patch
            let partial = grads == nil ? nil : scratch.zeros(batch * (weights + s.outChannels))
            let mark = scratch.mark()
            let cols = scratch.allocate(workers.threads * s.patch * s.positions), dcols = scratch.allocate(workers.threads * s.patch * s.positions)
            let dout = d
            workers.tasks(batch) { b, worker in
                let part = partial.map { $0 + b * (weights + s.outChannels) }
                Conv2d.backward(dx: dx.map { $0 + b * s.inputCount }, dweight: part, dbias: part.map { $0 + weights },
                                dout: dout + b * s.outputCount, x: cache.inputs[i] + b * s.inputCount, weight: w[l.weight],
                                cols: cols + worker * s.patch * s.positions, dcols: dcols + worker * s.patch * s.positions, s)
            }
            scratch.release(mark)
            if let grads, let partial {
                for b in 0..<batch {
                    Vector.add(grads[l.weight], partial + b * (weights + s.outChannels), weights)
                    Vector.add(grads[l.bias], partial + b * (weights + s.outChannels) + weights, s.outChannels)
                }
            }
            guard let dx else { return nil }
            d = dx
        }
        return d
    }
}

/// The adversarial terms of BSQ-ViT's `VQLPIPSWithDiscriminator` (hinge):
///     d_loss = ½(mean relu(1 − D(x)) + mean relu(1 + D(x̂))),   g_loss = −mean D(x̂)
///     d_weight = clamp(‖∇_W nll‖ / (‖∇_W g_loss‖ + 1e-4), 0, 1e4) · weight
/// with W the generator's last layer (`decoder.conv_out.weight`).
public enum AdversarialLoss {
    /// d_loss and its gradients with respect to the real and the fake logits
    /// (with `across`, means over the logits of all its processes).
    public static func hingeD(real: UnsafePointer<Float>, fake: UnsafePointer<Float>, count: Int,
                              dReal: UnsafeMutablePointer<Float>, dFake: UnsafeMutablePointer<Float>, across: Collective? = nil) -> Double {
        var lr = 0.0, lf = 0.0
        let n = across.map { Int($0.sum(Double(count))) } ?? count
        let g = Float(0.5 / Double(n))
        for i in 0..<count {
            let a = 1 - real[i], b = 1 + fake[i]
            lr += Double(max(a, 0)); lf += Double(max(b, 0))
            dReal[i] = a > 0 ? -g : 0
            dFake[i] = b > 0 ? g : 0
        }
        if let across, across.size > 1 { let s = across.sum([lr, lf]); lr = s[0]; lf = s[1] }
        return 0.5 * (lr / Double(n) + lf / Double(n))
    }

    /// g_loss and its gradient with respect to the fake logits (with `across`, over all its processes').
    public static func generator(fake: UnsafePointer<Float>, count: Int, dFake: UnsafeMutablePointer<Float>, across: Collective? = nil) -> Double {
        var s = 0.0
        let n = across.map { Int($0.sum(Double(count))) } ?? count
        for i in 0..<count { s += Double(fake[i]); dFake[i] = -1 / Float(n) }
        if let across { s = across.sum(s) }
        return -s / Double(n)
    }

    public static func adaptiveWeight(nllGrad: UnsafePointer<Float>, gGrad: UnsafePointer<Float>, count: Int, weight: Double) -> Double {
        var a = 0.0, b = 0.0
        for i in 0..<count { a += Double(nllGrad[i]) * Double(nllGrad[i]); b += Double(gGrad[i]) * Double(gGrad[i]) }
        return min(max(a.squareRoot() / (b.squareRoot() + 1e-4), 0), 1e4) * weight
    }
}

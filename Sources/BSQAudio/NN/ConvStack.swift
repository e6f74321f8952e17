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

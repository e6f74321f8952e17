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

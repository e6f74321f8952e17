import BSQAudio
import Foundation
import TestSupport
import XCTest

/// The vocoder's adversarial training (Vocos's multi-period and
/// multi-resolution discriminators, hinge losses, feature matching, weight
/// norm) against PyTorch autograd on the independent reference
/// (Tests/Fixtures/vocoder/reference_discriminators.py, fixture by
/// make_vocoder_disc_fixture.py): every sub-discriminator's logits, the
/// discriminator's loss and the gradient of each of its parameters, the
/// generator's terms and their gradient with respect to the generated audio.
final class VocoderDiscriminatorTests: XCTestCase {
    struct Fixture {
        let file: SafeTensors, config: VocoderDiscConfig, discriminators: WaveDiscriminators
        let params: [Float], real: [Float], fake: [Float], batch: Int, samples: Int
        func want(_ key: String) -> Double { Double(file.metadata[key] ?? "") ?? .nan }
    }

    func fixture() throws -> Fixture {
        let f = try SafeTensors(path: Repo.fixture("vocoder/expected_vocoder_disc.safetensors").path)
        func ints(_ key: String) throws -> [Int] { try JSONDecoder().decode([Int].self, from: Data((f.metadata[key] ?? "").utf8)) }
        var c = VocoderDiscConfig()
        c.weight = 1
        c.mpd_channels = try ints("mpd_channels")
        c.mrd_channels = Int(f.metadata["mrd_channels"] ?? "") ?? -1
        c.periods = try ints("periods")
        c.resolutions = try JSONDecoder().decode([[Int]].self, from: Data((f.metadata["resolutions"] ?? "").utf8))
        c.mrd_weight = Double(f.metadata["mrd_coeff"] ?? "") ?? .nan
        let d = WaveDiscriminators(c)
        let keys = Set(f.entries.map(\.name).filter { !$0.hasPrefix("grad_") && !$0.hasPrefix("logits.") && $0 != "y" && $0 != "y_hat" })
        XCTAssertEqual(Set(d.layout.slots.map(\.name)), keys, "the parameters are the reference's state-dict keys")
        var params = [Float](repeating: 0, count: d.layout.count)
        for s in d.layout.slots {
            XCTAssertEqual(f.entry(s.name)?.shape, s.shape, s.name)
            params.replaceSubrange(s.offset..<(s.offset + s.count), with: try f.floats(named: s.name))
        }
        return Fixture(file: f, config: c, discriminators: d, params: params, real: try f.floats(named: "y"), fake: try f.floats(named: "y_hat"),
                       batch: Int(f.metadata["batch"] ?? "") ?? -1, samples: Int(f.metadata["samples"] ?? "") ?? -1)
    }

    func testLogitsMatchPyTorch() throws {
        let fx = try fixture(), d = fx.discriminators, B = fx.batch, L = fx.samples
        let names = d.config.periods.indices.map { "mpd.\($0)" } + d.config.resolutions.indices.map { "mrd.\($0)" }
        for threads in [1, 2] {
            for (audio, side) in [(fx.real, "real"), (fx.fake, "fake")] {
                let arena = Arena()
                let logits = fx.params.withUnsafeBufferPointer { p in
                    audio.withUnsafeBufferPointer { a in
                        d.forward(Weights(p.baseAddress!, d.layout), audio: a.baseAddress!, stride: L, batch: B, length: L, arena: arena, threads: threads)
                            .caches.map { Array(UnsafeBufferPointer(start: $0.logits, count: $0.logitCount)) }
                    }
                }
                XCTAssertEqual(logits.count, names.count)
                for (got, name) in zip(logits, names) {
                    assertClose(got, try fx.file.floats(named: "logits.\(name).\(side)"), "logits \(name) \(side), \(threads) threads", tolerance: 1e-4)
                }
            }
        }
    }

    func testDiscriminatorLossAndGradientsMatchPyTorch() throws {
        let fx = try fixture(), d = fx.discriminators, B = fx.batch, L = fx.samples
        for threads in [1, 2] {
            let adversary = VocoderAdversary(fx.config, threads: threads)
            var grads = [Float](repeating: .nan, count: d.layout.count)
            var terms = VocoderAdversary.Terms()
            fx.params.withUnsafeBufferPointer { p in
                grads.withUnsafeMutableBufferPointer { g in
                    adversary.discriminatorStep(params: p.baseAddress!, grads: g.baseAddress!, real: fx.real, fake: fx.fake, stride: L,
                                                batch: B, length: L, terms: &terms)
                }
            }
            XCTAssertEqual(terms.dLoss, fx.want("d_total"), accuracy: 1e-5 * fx.want("d_total"))
            XCTAssertEqual(terms.dPeriod, fx.want("d_mp") / 5, accuracy: 1e-5 * fx.want("d_mp"))
            XCTAssertEqual(terms.dResolution, fx.want("d_mrd") / 3, accuracy: 1e-5 * fx.want("d_mrd"))
            for s in d.layout.slots {
                assertClose(Array(grads[s.offset..<(s.offset + s.count)]), try fx.file.floats(named: "grad_d." + s.name),
                            "grad \(s.name), \(threads) threads", tolerance: 1e-4)
            }
        }
    }

    func testGeneratorTermsAndTheirAudioGradientMatchPyTorch() throws {
        let fx = try fixture(), B = fx.batch, L = fx.samples
        // the generated audio in rows longer than the compared L, as the vocoder makes it
        let stride = L + 7
        var fake = [Float](repeating: 99, count: B * stride)
        for b in 0..<B { fake.replaceSubrange(b * stride..<(b * stride + L), with: fx.fake[(b * L)..<((b + 1) * L)]) }
        let want = try fx.file.floats(named: "grad_g.y_hat")
        for threads in [1, 2] {
            let adversary = VocoderAdversary(fx.config, threads: threads)
            var gradient = [Float](repeating: 0, count: B * stride)
            var terms = VocoderAdversary.Terms()
            fx.params.withUnsafeBufferPointer { p in
                gradient.withUnsafeMutableBufferPointer { g in
                    adversary.generatorTerms(params: p.baseAddress!, real: fx.real, fake: fake, stride: stride, batch: B, length: L,
                                             gradient: g.baseAddress!, terms: &terms)
                }
            }
            let gen = fx.want("gen_mp") / 5 + 0.1 * fx.want("gen_mrd") / 3, fm = fx.want("fm_mp") / 5 + 0.1 * fx.want("fm_mrd") / 3
            XCTAssertEqual(terms.gen, gen, accuracy: 1e-5 * gen)
            XCTAssertEqual(terms.fm, fm, accuracy: 1e-5 * fm)
            XCTAssertEqual(terms.gen + terms.fm, fx.want("g_total"), accuracy: 1e-5 * fx.want("g_total"))
            var got: [Float] = []
            for b in 0..<B {
                got += gradient[(b * stride)..<(b * stride + L)]
                XCTAssertTrue(gradient[(b * stride + L)..<((b + 1) * stride)].allSatisfy { $0 == 0 }, "nothing past the compared samples")
            }
            assertClose(got, want, "grad_g.y_hat, \(threads) threads", tolerance: 1e-4)
        }
    }

    /// A fresh discriminator is as `weight_norm` leaves a layer: g = ‖v‖ per output channel, so w = v.
    func testFreshWeightsHaveGEqualToTheNormOfV() {
        var c = VocoderDiscConfig()
        c.mpd_channels = [2, 3, 4, 4, 4]; c.mrd_channels = 3; c.weight = 1
        let d = WaveDiscriminators(c), w = d.initialValues(seed: 7)
        XCTAssertEqual(w, d.initialValues(seed: 7))
        for s in d.layout.slots where s.name.hasSuffix("weight_v") {
            let g = d.layout.slot(String(s.name.dropLast(1)) + "g")!
            let row = s.count / s.shape[0]
            for o in 0..<s.shape[0] {
                let norm = (0..<row).reduce(Float(0)) { $0 + w[s.offset + o * row + $1] * w[s.offset + o * row + $1] }.squareRoot()
                XCTAssertEqual(w[g.offset + o], norm, accuracy: 1e-6 * norm, s.name)
                XCTAssertGreaterThan(norm, 0)
            }
        }
    }
}

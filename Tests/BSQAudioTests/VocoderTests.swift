import BSQAudio
import Foundation
import TestSupport
import XCTest

/// The neural vocoder against PyTorch autograd on the independent reference
/// (Tests/Fixtures/vocoder/reference_vocoder.py, fixture by
/// make_vocoder_fixture.py): the forward's audio, the loss, and the
/// gradients of every parameter through the loss, the inverse STFT and the
/// ConvNeXt backbone; plus the inverse STFT's adjoint and inference = training forward.
final class VocoderTests: XCTestCase {
    struct Fixture {
        let config: VocoderConfig, network: VocosNetwork, file: SafeTensors
        var params: [Float]
        let batch: Int, frames: Int
    }

    func fixture() throws -> Fixture {
        let f = try SafeTensors(path: Repo.fixture("vocoder/expected_vocoder.safetensors").path)
        let meta = { (k: String) in Int(f.metadata[k] ?? "") ?? -1 }
        var c = VocoderConfig()
        c.dim = meta("dim"); c.ffn = meta("ffn"); c.layers = meta("layers"); c.n_mels = meta("n_mels"); c.hop_length = meta("hop")
        XCTAssertEqual(c.nFFT, meta("n_fft"))
        let net = VocosNetwork(c)
        var params = [Float](repeating: 0, count: net.layout.count)
        for s in net.layout.slots { params.replaceSubrange(s.offset..<(s.offset + s.count), with: try f.floats(named: s.name)) }
        return Fixture(config: c, network: net, file: f, params: params, batch: meta("batch"), frames: meta("frames"))
    }

    func testForwardLossAndGradientsMatchPyTorch() throws {
        let fx = try fixture(), net = fx.network, c = fx.config, f = fx.file
        let mel = try f.floats(named: "mel"), target = try f.floats(named: "target")
        let B = fx.batch, T = fx.frames, hop = c.hop_length, L = (T - 1) * hop
        let loss = SpectralLoss(sampleRate: c.sample_rate)
        for threads in [1, 2] {
            let arena = Arena(), scratch = Arena()
            var grads = [Float](repeating: 0, count: net.layout.count)
            let (value, audio, daudio) = fx.params.withUnsafeBufferPointer { p -> (SpectralLoss.Value, [Float], [Float]) in
                let w = Weights(p.baseAddress!, net.layout)
                let cache = mel.withUnsafeBufferPointer { net.forwardTraining(w, mel: $0.baseAddress!, batch: B, frames: T, arena: arena, threads: threads) }
                let d = scratch.zeros(B * T * hop)
                let v = loss.evaluate(predicted: cache.audio, stride: T * hop, target: target, batch: B, length: L, gradient: d, threads: threads)
                let dcopy = Array(UnsafeBufferPointer(start: d, count: B * T * hop))
                grads.withUnsafeMutableBufferPointer { net.backward(w, cache, daudio: d, grads: ParameterBuffer($0.baseAddress!), scratch: scratch, threads: threads) }
                return (v, Array(UnsafeBufferPointer(start: cache.audio, count: B * T * hop)), dcopy)
            }
            let want = { (k: String) in Double(f.metadata[k] ?? "") ?? .nan }
            XCTAssertEqual(value.total, want("loss"), accuracy: 1e-5 * want("loss"))
            XCTAssertEqual(value.mel, want("loss_mel"), accuracy: 1e-5 * want("loss_mel"))
            XCTAssertEqual(value.stft, want("loss_stft"), accuracy: 1e-5 * want("loss_stft"))
            assertClose(audio, try f.floats(named: "audio"), "audio", tolerance: 1e-4)
            assertClose(daudio, try f.floats(named: "grad_audio"), "grad_audio", tolerance: 1e-3)
            for s in net.layout.slots {
                assertClose(Array(grads[s.offset..<(s.offset + s.count)]), try f.floats(named: "grad." + s.name), "grad \(s.name) (\(threads) threads)", tolerance: 1e-3)
            }
        }
    }

    func testInferenceMatchesTheTrainingForward() throws {
        let fx = try fixture(), net = fx.network, c = fx.config
        let mel = try fx.file.floats(named: "mel"), want = try fx.file.floats(named: "audio")
        let T = fx.frames, hop = c.hop_length
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            var got = [Float](repeating: 0, count: T * hop)
            fx.params.withUnsafeBufferPointer { p in
                mel.withUnsafeBufferPointer { m in
                    net.synthesize(Weights(p.baseAddress!, net.layout), mel: m.baseAddress!, frames: T, into: &got, arena: Arena(), threads: threads)
                }
            }
            assertClose(got, Array(want[0..<(T * hop)]), "inference audio (\(threads) threads)", tolerance: 1e-5)
            outputs.append(got)
        }
        XCTAssertEqual(outputs[0], outputs[1], "the same samples whatever the thread count")
    }

    /// ⟨ISTFT′(h)·δh, dy⟩ = ⟨δh, backward(dy)⟩ by central differences on random spectra.
    func testInverseSTFTBackwardIsTheAdjoint() {
        var c = VocoderConfig()
        c.hop_length = 16
        let head = InverseSTFTHead(c), T = 5, width = c.nFFT + 2, n = T * c.hop_length
        var rng = SplitMix64(seed: 7)
        var h = (0..<(T * width)).map { i in Float(rng.normal()) * (i % width < c.bins ? 0.5 : 2) }
        h[3] = 5   // e^5 > 100: clipped, no gradient
        let dy = (0..<n).map { _ in Float(rng.normal()) }
        var dh = [Float](repeating: 0, count: T * width)
        head.backward(dspectra: &dh, daudio: dy, spectra: h, frames: T)
        XCTAssertEqual(dh[3], 0)
        func objective(_ x: [Float]) -> Double {
            var y = [Float](repeating: 0, count: n)
            head.synthesize(spectra: x, frames: T, into: &y)
            return zip(y, dy).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for i in stride(from: 1, to: T * width, by: 7) where i != 3 {
            var up = h, down = h
            let eps: Float = 1e-2
            up[i] += eps; down[i] -= eps
            let numeric = (objective(up) - objective(down)) / (2 * Double(eps))
            XCTAssertEqual(Double(dh[i]), numeric, accuracy: 2e-3 * max(1, abs(numeric)), "element \(i)")
        }
    }
}

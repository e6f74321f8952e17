import BSQAudio
import Foundation

/// `bsq-train export --onnx` of a vocoder: `vocoder.onnx`, input `mel`
/// float32 [batch, frames, n_mels] in dB → output `audio` float32
/// [batch, frames·hop_length], the network's samples (docs/vocoder.md steps
/// 1–6, walked from `VocosNetwork`). As `mel2wav --vocoder` does, keep the
/// first (frames − 1)·hop_length samples and scale the level as docs/onnx.md says.
///
/// The inverse STFT is spelt out with opset-17 operators: the inverse real
/// DFT and the window as two MatMuls by constant [bins, n_fft] matrices, the
/// overlap-add as a ConvTranspose with an identity kernel at a stride of the
/// hop, the window's squared overlap-add the same way, then the trim.
public struct ONNXVocoderExport {
    let net: VocosNetwork
    let w: ONNXWeights
    let checkpoint: VocoderCheckpoint
    var c: VocoderConfig { net.config }

    public init(_ checkpoint: VocoderCheckpoint) {
        self.checkpoint = checkpoint
        net = VocosNetwork(checkpoint.config)
        w = ONNXWeights(checkpoint.weights)
    }

    public func write(to folder: String) throws {
        try ONNXGraph.write([("vocoder.onnx", vocoder())], to: folder)
    }

    public func vocoder() -> Onnx_ModelProto {
        var g = ONNXGraph(name: "bsq_vocoder")
        g.input("mel", .float, ["batch", "frames", c.n_mels])
        let D = c.dim, K = c.kernel, N = c.nFFT, B = c.bins, H = c.hop_length, p = c.istftPad
        // steps 1–2: normalize, embed along time ([batch, M, T] for Conv), LayerNorm per frame
        let x = g.node("Transpose", [g.normalize("mel", dbMin: c.db_min, dbMax: c.db_max)], [Attribute.ints("perm", [0, 2, 1])])
        var e = g.node("Conv", [x, g.floats(net.embedWeight.name, w.values(net.embedWeight), dims: [D, c.n_mels, K]),
                                g.floats(net.embedBias.name, w.values(net.embedBias), dims: [D])],
                       [Attribute.ints("kernel_shape", [K]), Attribute.ints("pads", [(K - 1) / 2, (K - 1) / 2])])
        e = g.node("Transpose", [e], [Attribute.ints("perm", [0, 2, 1])])
        var h = g.layerNorm(e, net.norm, w)
        // step 3: ConvNeXt blocks on [batch, T, D]
        for b in net.blocks {
            var a = g.node("Transpose", [h], [Attribute.ints("perm", [0, 2, 1])])
            a = g.depthwiseConv(a, weight: b.dwWeight, bias: b.dwBias, channels: D, kernel: K, w)
            a = g.node("Transpose", [a], [Attribute.ints("perm", [0, 2, 1])])
            let y = g.dense(g.gelu(g.dense(g.layerNorm(a, b.norm, w), b.pwconv1, w)), b.pwconv2, w)
            h = g.node("Add", [h, g.node("Mul", [y, g.floats(b.gamma.name, w.values(b.gamma), dims: [D])])])
        }
        // steps 4–5: final norm, head: log-magnitudes and phases
        let o = g.dense(g.layerNorm(h, net.finalNorm, w), net.head, w)
        let parts = g.nodes("Split", [o, g.int64s("mag_phase", [Int64(B), Int64(B)])], [Attribute.int("axis", -1)], outputs: 2)
        let magnitude = g.node("Min", [g.node("Exp", [parts[0]]), g.scalar("max_magnitude", 100)])
        let re = g.node("Mul", [magnitude, g.node("Cos", [parts[1]])])
        let im = g.node("Mul", [magnitude, g.node("Sin", [parts[1]])])
        // step 6: windowed frames s = Re S·C + Im S·S' ([batch, T, N]), C and S' the irfft's rows times the window
        let (cosBasis, sinBasis, window) = ONNXVocoderExport.inverseDFT(n: N)
        let frames = g.node("Add", [g.node("MatMul", [re, g.floats("irfft_cos_windowed", cosBasis, dims: [B, N])]),
                                    g.node("MatMul", [im, g.floats("irfft_sin_windowed", sinBasis, dims: [B, N])])])
        // overlap-add at the hop: ConvTranspose of [batch, N, T] with the N×N identity, stride H
        var identity = [Float](repeating: 0, count: N * N)
        for i in 0..<N { identity[i * N + i] = 1 }
        let eye = g.floats("overlap_add_identity", identity, dims: [N, 1, N])
        let overlapAdd = [Attribute.ints("kernel_shape", [N]), Attribute.ints("strides", [H])]
        let columns = g.node("Transpose", [frames], [Attribute.ints("perm", [0, 2, 1])])
        let full = g.node("ConvTranspose", [columns, eye], overlapAdd)
        // env: the same overlap-add of w² in every column
        let squares = g.node("Add", [g.node("Mul", [columns, g.scalar("zero", 0)]),
                                     g.floats("window_squared", window.map { $0 * $0 }, dims: [N, 1])])
        let env = g.node("ConvTranspose", [squares, eye], overlapAdd)
        var y = g.node("Div", [full, env])
        y = g.node("Slice", [y, g.int64s("trim_start", [Int64(p)]), g.int64s("trim_end", [Int64(-p)]), g.int64s("time_axis", [2])])
        g.node("Reshape", [y, g.int64s("audio_shape", [0, -1])])
        g.renameLastOutput(to: "audio")
        g.output("audio", .float, ["batch", "samples"])
        return g.model(docString: "bsq-audio neural vocoder: mel [batch, frames, n_mels] in dB -> audio [batch, frames * hop_length]",
                       metadata: [("vocoder", c.json), ("model_name", checkpoint.name), ("sample_rate", String(c.sample_rate)),
                                  ("hop_length", String(H))])
    }

    /// torch.fft.irfft(S, N) as Re S·C + Im S·S', each row times the periodic
    /// Hann window: C[k][n] = c_k·cos(2πkn/N)/N, S'[k][n] = −c_k·sin(2πkn/N)/N,
    /// c_k = 1 at k = 0 and N/2, else 2 (the imaginary parts of bins 0 and N/2
    /// are ignored). Computed in double precision.
    static func inverseDFT(n N: Int) -> (cos: [Float], sin: [Float], window: [Float]) {
        let B = N / 2 + 1
        let window = (0..<N).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(N)) }
        var c = [Float](repeating: 0, count: B * N), s = [Float](repeating: 0, count: B * N)
        for k in 0..<B {
            let edge = k == 0 || 2 * k == N
            let weight = (edge ? 1.0 : 2.0) / Double(N)
            for n in 0..<N {
                let angle = 2 * Double.pi * Double((k * n) % N) / Double(N)
                c[k * N + n] = Float(weight * cos(angle) * window[n])
                s[k * N + n] = edge ? 0 : Float(-weight * sin(angle) * window[n])
            }
        }
        return (c, s, window.map { Float($0) })
    }
}

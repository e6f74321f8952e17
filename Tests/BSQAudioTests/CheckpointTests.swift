import BSQAudio
import Foundation
import TestSupport
import XCTest

final class CheckpointTests: XCTestCase {
    static var micro: ModelConfig {
        var c = ModelConfig()
        c.name = "micro"; c.n_mels = 32; c.frames = 128; c.width = 32; c.layers = 2; c.heads = 2
        c.conv_kernel = 5; c.decoder_ffn = 64
        return c
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(Array("abc".utf8).withUnsafeBytes { SHA256.hex($0) },
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = (0..<10).flatMap { _ in (0..<256).map(UInt8.init) }
        XCTAssertEqual(long.withUnsafeBytes { SHA256.hex($0) }, "e392378f849d67bbb1a7bbec84f1098ae3faa751049c009a850130ce6073d91a")
        let s = SHA256()
        long.withUnsafeBytes { b in
            s.update(UnsafeRawBufferPointer(rebasing: b[0..<7]))
            s.update(UnsafeRawBufferPointer(rebasing: b[7..<700]))
            s.update(UnsafeRawBufferPointer(rebasing: b[700...]))
        }
        XCTAssertEqual(s.finish().map { String(format: "%02x", $0) }.joined(), "e392378f849d67bbb1a7bbec84f1098ae3faa751049c009a850130ce6073d91a")
    }

    func testLayoutFollowsTheContract() {
        let l = ParameterLayout(Self.micro)
        XCTAssertEqual(l.slot("encoder.patch_embed.weight")?.shape, [32, 256])
        XCTAssertEqual(l.slot("encoder.positional_embedding")?.shape, [16, 32])
        XCTAssertEqual(l.slot("encoder.blocks.1.attn.in_proj_weight")?.shape, [96, 32])
        XCTAssertEqual(l.slot("decoder.blocks.0.conv.depthwise_conv.weight")?.shape, [32, 5])
        XCTAssertEqual(l.slot("decoder.blocks.0.conv.pointwise_conv1.weight")?.shape, [64, 32])
        XCTAssertEqual(l.slot("quant_embed.weight")?.shape, [18, 32])
        XCTAssertEqual(l.slot("decoder.conv_out.weight")?.shape, [256, 64])
        XCTAssertNil(l.slot("encoder.blocks.2.ln_1.weight"))
        var noConv = Self.micro
        noConv.conv_module = false
        XCTAssertNil(ParameterLayout(noConv).slot("encoder.blocks.0.conv.norm.weight"))
        XCTAssertEqual(ParameterLayout(ModelConfig.base).count, ParameterLayout(ModelConfig.base).slots.reduce(0) { $0 + $1.count })
    }

    func testInitWriteReadRoundTrip() throws {
        let dir = TempDir()
        let ck = Checkpoint.initialized(Self.micro, seed: 3)
        try ck.write(to: dir.path("m.safetensors"))
        let back = try Checkpoint(path: dir.path("m.safetensors"))
        XCTAssertEqual(back.config, Self.micro)
        XCTAssertEqual(back.weights, ck.weights)
        XCTAssertEqual(back.sha256.count, 64)
        XCTAssertFalse(back.usedEMA)
        let l = ck.layout
        func values(_ k: String) -> ArraySlice<Float> { let s = l.slot(k)!; return ck.weights[s.offset..<(s.offset + s.count)] }
        XCTAssertTrue(values("encoder.ln_pre.weight").allSatisfy { $0 == 1 })
        XCTAssertTrue(values("encoder.blocks.0.attn.in_proj_bias").allSatisfy { $0 == 0 })
        XCTAssertTrue(values("encoder.blocks.0.conv.batch_norm.running_var").allSatisfy { $0 == 1 })
        XCTAssertTrue(values("encoder.blocks.0.conv.batch_norm.running_mean").allSatisfy { $0 == 0 })
        let pe = values("encoder.blocks.0.mlp.c_fc.weight").map(Double.init)
        let mean = pe.reduce(0, +) / Double(pe.count)
        let std = (pe.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(pe.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertEqual(Checkpoint.initialized(Self.micro, seed: 3).weights, ck.weights, "seeded")
        XCTAssertNotEqual(Checkpoint.initialized(Self.micro, seed: 4).weights, ck.weights)
    }

    func testEMAWeightsArePreferred() throws {
        let dir = TempDir()
        let ck = Checkpoint.initialized(Self.micro, seed: 1)
        let ema = Checkpoint.initialized(Self.micro, seed: 2)
        try ck.write(to: dir.path("e.safetensors"), extra: ck.layout.slots.map { s in
            (name: "ema." + s.name, shape: s.shape, values: Array(ema.weights[s.offset..<(s.offset + s.count)]))
        })
        let back = try Checkpoint(path: dir.path("e.safetensors"))
        XCTAssertTrue(back.usedEMA)
        XCTAssertEqual(back.weights, ema.weights)
    }

    func testHalfPrecisionTensorsAreWidened() throws {
        // a hand-made safetensors file: F16 [1.5, -2], BF16 [1, -0.5], F32 [3]
        let header = #"{"__metadata__":{"format":"x"},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"f":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"i":{"dtype":"I32","shape":[1],"data_offsets":[12,16]}}"#
        var bytes: [UInt8] = []
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        for i in 0..<8 { bytes.append(UInt8((h.count >> (8 * i)) & 0xFF)) }
        bytes += h
        bytes += [0x00, 0x3E, 0x00, 0xC0]          // F16 1.5, -2
        bytes += [0x80, 0x3F, 0x00, 0xBF]          // BF16 1, -0.5
        bytes += withUnsafeBytes(of: Float(3).bitPattern.littleEndian, Array.init)
        bytes += [1, 0, 0, 0]
        let dir = TempDir()
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path("h.safetensors")))
        let f = try SafeTensors(path: dir.path("h.safetensors"))
        func read(_ n: String) throws -> [Float] {
            let e = f.entry(n)!
            var out = [Float](repeating: 0, count: e.count)
            try out.withUnsafeMutableBufferPointer { try f.floats(e, into: $0.baseAddress!) }
            return out
        }
        XCTAssertEqual(try read("h"), [1.5, -2])
        XCTAssertEqual(try read("b"), [1, -0.5])
        XCTAssertEqual(try read("f"), [3])
        XCTAssertThrowsError(try read("i")) { XCTAssertTrue("\($0)".contains("'i' is I32, expected F32, F16 or BF16")) }
        XCTAssertEqual(f.metadata["format"], "x")
    }

    func testBadCheckpointsNameTheProblem() throws {
        let dir = TempDir()
        let ck = Checkpoint.initialized(Self.micro, seed: 1)
        func write(_ name: String, dropping: String? = nil, reshape: String? = nil, extra: String? = nil) throws -> String {
            var tensors: [(name: String, shape: [Int], values: [Float])] = []
            for s in ck.layout.slots where s.name != dropping {
                let v = Array(ck.weights[s.offset..<(s.offset + s.count)])
                tensors.append((name: s.name, shape: s.name == reshape ? [s.count] : s.shape, values: v))
            }
            if let extra { tensors.append((name: extra, shape: [2], values: [1, 2])) }
            let path = dir.path(name)
            try tensors.withUnsafeBufferPointer { _ in
                var all: [Float] = []
                var offsets: [Int] = []
                for t in tensors { offsets.append(all.count); all += t.values }
                try all.withUnsafeBufferPointer { a in
                    try SafeTensors.write(to: path, metadata: [("format", "bsq-audio-1"), ("config", Self.micro.json)],
                                          tensors: tensors.enumerated().map { i, t in
                                              (name: t.name, shape: t.shape, values: UnsafeBufferPointer(rebasing: a[offsets[i]..<(offsets[i] + t.values.count)]))
                                          })
                }
            }
            return path
        }
        func message(_ path: String) -> String {
            do { _ = try Checkpoint(path: path); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(try write("a", dropping: "decoder.ln_post.bias")).contains("missing tensor 'decoder.ln_post.bias'"))
        XCTAssertTrue(message(try write("b", reshape: "quant_embed.weight")).contains("tensor 'quant_embed.weight' has shape [576], expected [18, 32]"))
        XCTAssertTrue(message(try write("c", extra: "encoder.blocks.9.ln_1.weight")).contains("unexpected tensor 'encoder.blocks.9.ln_1.weight'"))
        XCTAssertEqual(message(try write("d", extra: "optimizer.step")), "", "training state may share the file")
        try Data("hello, not safetensors at all".utf8).write(to: URL(fileURLWithPath: dir.path("e")))
        XCTAssertTrue(message(dir.path("e")).contains("not a safetensors file"))
        XCTAssertTrue(message(dir.path("missing")).contains("No such file"))
    }

    func testBatchingDoesNotChangeResults() throws {
        let c = Self.micro
        var w = Checkpoint.initialized(c, seed: 7).weights
        for i in w.indices { w[i] *= 8 }   // larger weights: non-trivial codes
        let model = BSQModel(Checkpoint(config: c, weights: w))
        var rng = SplitMix64(seed: 1)
        let chunk = c.frames * c.n_mels
        let mel = (0..<(3 * chunk)).map { _ in Float(-80 * rng.uniform()) }
        var all = [UInt64](repeating: 0, count: 3 * c.tokens)
        mel.withUnsafeBufferPointer { m in all.withUnsafeMutableBufferPointer { model.encode(mel: m.baseAddress!, batch: 3, tokens: $0.baseAddress!) } }
        for b in 0..<3 {
            var one = [UInt64](repeating: 0, count: c.tokens)
            mel.withUnsafeBufferPointer { m in one.withUnsafeMutableBufferPointer { model.encode(mel: m.baseAddress! + b * chunk, batch: 1, tokens: $0.baseAddress!) } }
            XCTAssertEqual(one, Array(all[(b * c.tokens)..<((b + 1) * c.tokens)]))
        }
        XCTAssertGreaterThan(Set(all).count, 8, "codes are not trivial")
        var recAll = [Float](repeating: 0, count: 3 * chunk), recOne = [Float](repeating: 0, count: chunk)
        all.withUnsafeBufferPointer { t in recAll.withUnsafeMutableBufferPointer { model.decode(tokens: t.baseAddress!, batch: 3, mel: $0.baseAddress!) } }
        all.withUnsafeBufferPointer { t in recOne.withUnsafeMutableBufferPointer { model.decode(tokens: t.baseAddress! + c.tokens, batch: 1, mel: $0.baseAddress!) } }
        let diff = zip(recOne, recAll[chunk..<(2 * chunk)]).map { abs($0 - $1) }.max()!
        XCTAssertEqual(diff, 0, "batch of 1 vs 3")
        XCTAssertTrue(recAll.allSatisfy { $0 >= -80 && $0 <= 0 })
        let twoThreads = BSQModel(Checkpoint(config: c, weights: w), threads: 2)
        var all2 = [UInt64](repeating: 0, count: 3 * c.tokens), rec2 = [Float](repeating: 0, count: 3 * chunk)
        mel.withUnsafeBufferPointer { m in all2.withUnsafeMutableBufferPointer { twoThreads.encode(mel: m.baseAddress!, batch: 3, tokens: $0.baseAddress!) } }
        all.withUnsafeBufferPointer { t in rec2.withUnsafeMutableBufferPointer { twoThreads.decode(tokens: t.baseAddress!, batch: 3, mel: $0.baseAddress!) } }
        XCTAssertEqual(all2, all, "thread count does not change codes")
        XCTAssertTrue(rec2 == recAll, "thread count does not change reconstructions")
    }
}

final class ActivationTests: XCTestCase {
    func testVectorizedActivationsMatchLibm() {
        let xs: [Float] = stride(from: -12.0, through: 12.0, by: 0.0137).map { Float($0) } + [0, -0.0, 1e-6, -1e-6, 30, -30, 90, -90]
        func check(_ f: (UnsafeMutablePointer<Float>, Int) -> Void, _ ref: (Double) -> Double, tol: Double, _ name: String) {
            var v = xs
            v.withUnsafeMutableBufferPointer { f($0.baseAddress!, $0.count) }
            for (x, y) in zip(xs, v) {
                let r = ref(Double(x))
                XCTAssertLessThanOrEqual(abs(Double(y) - r), tol * max(1, abs(r)), "\(name)(\(x)) = \(y), want \(r)")
            }
        }
        check({ Activations.gelu($0, count: $1) }, { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, tol: 3e-7, "gelu")
        check({ Activations.silu($0, count: $1) }, { $0 / (1 + exp(-$0)) }, tol: 3e-7, "silu")
        // the vocoder's GELU through the rational erf: 3·10⁻⁷ absolute in erf, so 2.5·10⁻⁷·max(1, |x|) in GELU
        var g = xs
        g.withUnsafeMutableBufferPointer { Activations.geluRational($0.baseAddress!, count: $0.count) }
        for (x, y) in zip(xs, g) {
            let r = 0.5 * Double(x) * erfc(-Double(x) / 2.0.squareRoot())
            XCTAssertLessThanOrEqual(abs(Double(y) - r), 2.5e-7 * max(1, abs(Double(x))), "geluRational(\(x)) = \(y), want \(r)")
        }
        var erfs = xs
        FastMath.map(&erfs, count: erfs.count) { FastMath.erf($0) }
        for (x, y) in zip(xs, erfs) { XCTAssertLessThanOrEqual(abs(Double(y) - erf(Double(x))), 3e-7, "erf(\(x)) = \(y)") }
        check({ Activations.tanh($0, count: $1) }, { Foundation.tanh($0) }, tol: 3e-7, "tanh")
        var s: [Float] = [1, 2, 3, -1000, 0.5]
        s.withUnsafeMutableBufferPointer { Activations.softmax($0.baseAddress!, rows: 1, cols: 5) }
        let e = [1.0, 2, 3, -1000, 0.5].map { exp($0 - 3) }, z = e.reduce(0, +)
        for (a, b) in zip(s, e) { XCTAssertEqual(Double(a), b / z, accuracy: 1e-7) }
    }
}

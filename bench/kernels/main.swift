// kernel-bench: the elementwise and reduction kernels that the build's SIMD
// target decides, timed one at a time on one thread. Prints one JSON object
// per kernel: {"kernel", "unit", "per", "ns"}: nanoseconds per `per` `unit`s,
// the median of 7 timings of a loop that runs at least 50 ms.
// make bench (BENCH=simd) runs it from the native and from a PORTABLE build.
import BSQAudio
import Foundation

setenv("OPENBLAS_NUM_THREADS", "1", 1)

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Median seconds per call of `body`, each timing a loop of at least 50 ms.
func time(_ body: () -> Void) -> Double {
    body()
    var calls = 1
    while true {
        let s = now()
        for _ in 0..<calls { body() }
        if now() - s >= 0.05 { break }
        calls *= 2
    }
    var runs: [Double] = []
    for _ in 0..<7 {
        let s = now()
        for _ in 0..<calls { body() }
        runs.append((now() - s) / Double(calls))
    }
    return runs.sorted()[3]
}

func report(_ kernel: String, unit: String, per: Int, _ seconds: Double) {
    print("{\"kernel\": \"\(kernel)\", \"unit\": \"\(unit)\", \"per\": \(per), \"ns\": \(String(format: "%.4f", seconds * 1e9 / Double(per)))}")
}

func randoms(_ n: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<n).map { _ in Float.random(in: range) } }

// elementwise activations over 1 Mi floats (4 MiB: in L2/L3 as in a layer's block)
let n = 1 << 20
let x = randoms(n, -4...4), dout = randoms(n, -1...1)
var y = [Float](repeating: 0, count: n), dx = [Float](repeating: 0, count: n)
for (name, f) in [("gelu", Activations.gelu(_:count:)), ("gelu (rational)", Activations.geluRational(_:count:)),
                  ("silu", Activations.silu(_:count:)), ("tanh", Activations.tanh(_:count:))] as [(String, (UnsafeMutablePointer<Float>, Int) -> Void)] {
    report(name, unit: "element", per: n, time { y.withUnsafeMutableBufferPointer { p in
        p.baseAddress!.update(from: x, count: n)
        f(p.baseAddress!, n)
    } })
}
report("gelu backward", unit: "element", per: n, time {
    Activations.geluBackward(dx: &dx, dout: dout, x: x, count: n)
})

// attention's row softmax, 8 heads' worth of 512 × 512 scores, and its backward
let rows = 512, cols = 512
let scores = randoms(rows * cols, -8...8)
var probs = [Float](repeating: 0, count: rows * cols)
report("softmax rows", unit: "element", per: rows * cols, time { probs.withUnsafeMutableBufferPointer { p in
    p.baseAddress!.update(from: scores, count: rows * cols)
    Activations.softmax(p.baseAddress!, rows: rows, cols: cols)
} })
let grad = randoms(rows * cols, -1...1)
var dp = grad
report("softmax backward", unit: "element", per: rows * cols, time { dp.withUnsafeMutableBufferPointer { g in
    g.baseAddress!.update(from: grad, count: rows * cols)
    Activations.softmaxBackward(g.baseAddress!, p: probs, rows: rows, cols: cols)
} })

// LayerNorm over 4096 rows of 256
let lr = 4096, lc = 256
let lx = randoms(lr * lc, -3...3), ld = randoms(lr * lc, -1...1), w = randoms(lc, 0.5...1.5), b = randoms(lc, -0.1...0.1)
var lo = [Float](repeating: 0, count: lr * lc), mean = [Float](repeating: 0, count: lr), rstd = [Float](repeating: 0, count: lr)
report("layernorm", unit: "element", per: lr * lc, time {
    LayerNorm.forward(&lo, lx, weight: w, bias: b, rows: lr, cols: lc, mean: &mean, rstd: &rstd)
})
var ldx = [Float](repeating: 0, count: lr * lc), dw = [Float](repeating: 0, count: lc), db = [Float](repeating: 0, count: lc)
report("layernorm backward", unit: "element", per: lr * lc, time {
    LayerNorm.backward(dx: &ldx, dweight: &dw, dbias: &db, dout: ld, x: lx, weight: w, mean: mean, rstd: rstd, rows: lr, cols: lc)
})

// the quantizer's loss and gradient (commitment and the two entropies) for 512 tokens of 18 bits:
// group_size 9 (the presets) and 18 (the whole code, factored into 2^9 × 2^9)
let tokens = 512
let u = randoms(tokens * 18, -0.3...0.3)
var du = [Float](repeating: 0, count: tokens * 18)
for g in [9, 18] {
    let loss = BSQLoss(bits: 18, groupSize: g, analytical: false)
    report("BSQ entropy, group_size \(g)", unit: "token", per: tokens, time { _ = loss.quantizer(u, tokens: tokens, du: &du) })
}

// a whole log-mel analysis of 10 s at 16 kHz (FFTW and OpenBLAS dispatch at run time; the power and dB steps are the build's)
let audio = randoms(160_000, -0.5...0.5)
let mel = MelSpectrogram(.librosa)
report("log-mel, 10 s", unit: "second of audio", per: 10, time { _ = try! mel.compute(audio) })

// CRC-32 of 64 MiB (libdeflate picks its kernel at run time)
let bytes = [UInt8](repeating: 0xA5, count: 64 << 20)
report("CRC-32", unit: "byte", per: bytes.count, time { _ = CRC32.checksum(bytes) })

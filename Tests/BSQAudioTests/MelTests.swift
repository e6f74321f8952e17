import BSQAudio
import Foundation
import TestSupport
import XCTest

final class MelTests: XCTestCase {
    func testMelScalesMatchLibrosa() {
        // librosa.hz_to_mel / mel_to_hz values
        XCTAssertEqual(MelScale.slaney.mel(440), 6.6, accuracy: 1e-12)
        XCTAssertEqual(MelScale.slaney.mel(4000), 35.163760314616646, accuracy: 1e-12)
        XCTAssertEqual(MelScale.slaney.hz(30), 2804.6441307389214, accuracy: 1e-9)
        XCTAssertEqual(MelScale.htk.mel(4000), 2146.06452750619, accuracy: 1e-9)
        for f in [0.0, 55, 999, 1000, 1001, 7999] {
            XCTAssertEqual(MelScale.slaney.hz(MelScale.slaney.mel(f)), f, accuracy: 1e-9)
            XCTAssertEqual(MelScale.htk.hz(MelScale.htk.mel(f)), f, accuracy: 1e-9)
        }
    }

    func testFilterbankMatchesLibrosa() {
        // librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmax=8000): row sums and entries
        let fb = MelFilterbank(.librosa)
        func rowSum(_ f: MelFilterbank, _ m: Int) -> Double { (0..<f.bins).reduce(0.0) { $0 + Double(f.weightsT[$1 * f.nMels + m]) } }
        XCTAssertEqual(fb.bins, 513)
        for (m, want) in [(0, 0.05695532262325287), (10, 0.0579565055668354), (64, 0.06285125762224197), (127, 0.06395111978054047)] {
            XCTAssertEqual(rowSum(fb, m), want, accuracy: want * 1e-6)
        }
        let row64 = (0..<513).map { fb.weightsT[$0 * 128 + 64] }
        XCTAssertEqual(row64.firstIndex(of: row64.max()!), 109)
        XCTAssertEqual(fb.weightsT.max()!, 0.042566314339637756, accuracy: 1e-9)
        // librosa.filters.mel(..., htk=True, norm=None)
        var a = MelAnalysis.librosa
        a.melScale = .htk
        a.norm = .none
        let htk = MelFilterbank(a)
        for (m, want) in [(0, 0.8710232377052307), (10, 1.073962926864624), (64, 3.1076607704162598), (127, 10.661282539367676)] {
            XCTAssertEqual(rowSum(htk, m), want, accuracy: want * 1e-6)
        }
        XCTAssertEqual(htk.weightsT[6 * 128 + 5], 0.568353533744812, accuracy: 1e-7)
    }

    func testFFTMatchesDirectDFT() {
        let n = 64
        let fft = RealFFT.shared(n)
        let x = AlignedFloats(count: n), y = AlignedFloats(count: 2 * fft.bins)
        var rng = SplitMix64(seed: 3)
        for i in 0..<n { x[i] = Float(Double(rng.next() % 2000) / 1000 - 1) }
        let input = (0..<n).map { Double(x[$0]) }
        fft.forward(x.pointer, y.pointer)
        for k in 0..<fft.bins {
            var re = 0.0, im = 0.0
            for i in 0..<n { re += input[i] * cos(2 * .pi * Double(k * i) / Double(n)); im -= input[i] * sin(2 * .pi * Double(k * i) / Double(n)) }
            XCTAssertEqual(Double(y[2 * k]), re, accuracy: 1e-4)
            XCTAssertEqual(Double(y[2 * k + 1]), im, accuracy: 1e-4)
        }
        XCTAssertTrue(RealFFT.shared(n) === fft, "plans are made once per length")
    }

    func testFastDecibelsAgreeWithLog10() {
        var rng = SplitMix64(seed: 5)
        var worst = 0.0
        for _ in 0..<200_000 {
            let e = Double(rng.next() % 1_000_000) / 1_000_000 * 36 - 26       // 1e-26 … 1e10
            let x = Float(pow(10, e))
            let exact = 10 * log10(Double(x))
            let d = abs(Double(FastLog.decibels(x)) - exact) / (Double(Float(abs(exact)).ulp) + 1e-7)
            worst = max(worst, d)
        }
        XCTAssertLessThanOrEqual(worst, 3, "error of the vectorized log in float ulps of the result")
        XCTAssertEqual(FastLog.decibels(1), 0)
    }

    func testFrameCountsFollowLibrosa() {
        var a = MelAnalysis.librosa
        XCTAssertEqual(STFT(a).frameCount(samples: 16000), 101)
        XCTAssertEqual(STFT(a).frameCount(samples: 300), 2)
        XCTAssertEqual(STFT(a).frameCount(samples: 1), 1)
        a.nFFT = 1023                                            // padded by 511 each side
        XCTAssertEqual(STFT(a).frameCount(samples: 320), 2)
        XCTAssertNil(STFT(a).frameCount(samples: 0))
        a.nFFT = 1024
        a.center = false
        XCTAssertNil(STFT(a).frameCount(samples: 1023))
        XCTAssertEqual(STFT(a).frameCount(samples: 1024), 1)
        XCTAssertEqual(STFT(a).frameCount(samples: 16000), 94)
    }

    func testReflectPaddingIsNumpys() throws {
        // np.pad([1,2,3], 5, 'reflect'), np.pad([7], 2, 'reflect'), np.pad([1,2], 3, 'reflect') and 'constant'
        func padded(_ y: [Float], by pad: Int, _ mode: MelAnalysis.PadMode) -> [Float] {
            var out = [Float](repeating: .nan, count: y.count + 2 * pad)
            y.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { STFT.pad(src, by: pad, mode: mode, into: $0) } }
            return out
        }
        XCTAssertEqual(padded([1, 2, 3], by: 5, .reflect), [2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2])
        XCTAssertEqual(padded([7], by: 2, .reflect), [7, 7, 7, 7, 7])
        XCTAssertEqual(padded([1, 2], by: 3, .reflect), [2, 1, 2, 1, 2, 1, 2, 1])
        XCTAssertEqual(padded([1, 2], by: 3, .constant), [0, 0, 0, 1, 2, 0, 0, 0])
    }

    func testMelIsTheFilterbankOfTheSTFTPower() throws {
        // MelSpectrogram's blocks of STFT.powerSpectrogram against STFT.forward, |X|², F by hand
        var a = MelAnalysis.librosa
        a.nFFT = 256; a.hopLength = 64; a.nMels = 20; a.padMode = .reflect
        let y = SyntheticAudio.voice(seconds: 1.5, rate: 16000)
        let stft = STFT(a), fb = MelFilterbank(a)
        let frames = try XCTUnwrap(stft.frameCount(samples: y.count))
        var spectrum = [Float](repeating: 0, count: frames * 2 * stft.bins)
        y.withUnsafeBufferPointer { x in spectrum.withUnsafeMutableBufferPointer { stft.forward(x, into: $0.baseAddress!, STFT.Workspace(nFFT: 256)) } }
        let mel = try MelSpectrogram(a).melPower(y)
        XCTAssertEqual(mel.frames, frames)
        XCTAssertGreaterThan(frames, 256, "more than one block of frames")
        var worst: Float = 0
        for t in 0..<frames {
            for m in 0..<a.nMels {
                var want: Float = 0
                for k in 0..<stft.bins {
                    let re = spectrum[(t * stft.bins + k) * 2], im = spectrum[(t * stft.bins + k) * 2 + 1]
                    want += (re * re + im * im) * fb.weightsT[k * a.nMels + m]
                }
                worst = max(worst, abs(mel.values[t * a.nMels + m] - want) / max(want, 1e-6))
            }
        }
        XCTAssertLessThan(worst, 1e-4)
    }

    func testDecibelsClampAndFloor() throws {
        let s = MelSpectrogram(.librosa)
        let y = SyntheticAudio.voice(seconds: 2.5, rate: 16000)  // with a silent gap
        let mel = try s.compute(y)
        XCTAssertEqual(mel.frames, 251)
        XCTAssertEqual(mel.values.max(), 0)
        XCTAssertEqual(mel.values.min(), -80)
        XCTAssertEqual(mel.floor, -80)
        var silence = MelAnalysis.librosa
        silence.ref = .value(1.0)
        silence.topDB = nil
        let quiet = try MelSpectrogram(silence).compute([Float](repeating: 0, count: 4000))
        XCTAssertTrue(quiet.values.allSatisfy { $0 == quiet.floor })
        XCTAssertEqual(quiet.floor, -100, accuracy: 1e-4)
    }

    func testFrameFitPadsCropsAndIsDeterministic() throws {
        let mel = LogMel(values: (0..<40).map(Float.init), frames: 10, nMels: 4, floor: -80)
        let padded = FrameFit(frames: 12).apply(mel, key: "a")
        XCTAssertEqual(padded.mel.values.count, 48)
        XCTAssertEqual(Array(padded.mel.values[0..<40]), mel.values)
        XCTAssertTrue(padded.mel.values[40...].allSatisfy { $0 == -80 })
        XCTAssertEqual(FrameFit(frames: 4, crop: .start).apply(mel, key: "a").mel.values, Array(mel.values[0..<16]))
        XCTAssertEqual(FrameFit(frames: 4, crop: .center).offset(total: 10, key: "a"), 3)
        let r = FrameFit(frames: 4, crop: .random, seed: 9)
        let offsets = (0..<200).map { r.offset(total: 10, key: "utt\($0)") }
        XCTAssertEqual(offsets, (0..<200).map { r.offset(total: 10, key: "utt\($0)") })
        XCTAssertEqual(Set(offsets), Set(0...6), "every start is reachable, none beyond")
        XCTAssertNotEqual(offsets, (0..<200).map { FrameFit(frames: 4, crop: .random, seed: 10).offset(total: 10, key: "utt\($0)") })
    }

    func testOrderedParallelKeepsOrderAndBoundsTheWindow() throws {
        final class Box: @unchecked Sendable { var maxAhead = 0; let lock = NSLock(); var done = 0 }
        let box = Box()
        var seen: [Int] = []
        try OrderedParallel.run(count: 200, jobs: 3, work: { i in
            usleep(UInt32((i * 7919) % 500))
            box.lock.lock(); box.done += 1; box.lock.unlock()
            return i * i
        }, consume: { i, r in
            XCTAssertEqual(r, i * i)
            seen.append(i)
            box.lock.lock(); box.maxAhead = max(box.maxAhead, box.done - i); box.lock.unlock()
        })
        XCTAssertEqual(seen, Array(0..<200))
        XCTAssertLessThanOrEqual(box.maxAhead, 7, "at most 2·jobs results wait")
    }
}

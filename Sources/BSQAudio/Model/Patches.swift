/// Mel ↔ patch vectors (docs/model.md steps 1, 2 and the inverse in 6).
/// Token n = it·nf + jf holds p_n[a·pf + b] = x[it·pt + a, jf·pf + b].
public enum Patches {
    /// Calls `body(melRow, patchRow)` for every run of `patch_freq` values that
    /// one patch row shares with one mel row, as offsets into a chunk's
    /// [frames, n_mels] and [tokens, pt·pf] arrays.
    static func forEachRun(_ c: ModelConfig, _ body: (Int, Int) -> Void) {
        for it in 0..<c.nt {
            for jf in 0..<c.nf {
                for a in 0..<c.patch_time {
                    body((it * c.patch_time + a) * c.n_mels + jf * c.patch_freq, (it * c.nf + jf) * c.patchDim + a * c.patch_freq)
                }
            }
        }
    }

    /// Normalizes a [frames, n_mels] dB chunk to [-1, 1] and patchifies it into [tokens, pt·pf].
    public static func patchify(_ out: UnsafeMutablePointer<Float>, mel: UnsafePointer<Float>, _ c: ModelConfig) {
        let lo = Float(c.db_min), hi = Float(c.db_max), span = hi - lo
        forEachRun(c) { m, p in
            for b in 0..<c.patch_freq { out[p + b] = 2 * (min(max(mel[m + b], lo), hi) - lo) / span - 1 }
        }
    }

    /// Un-patchifies [tokens, pt·pf] and maps back to dB, clamped to [db_min, db_max].
    public static func unpatchify(_ mel: UnsafeMutablePointer<Float>, patches: UnsafePointer<Float>, _ c: ModelConfig) {
        let lo = Float(c.db_min), hi = Float(c.db_max), span = hi - lo
        forEachRun(c) { m, p in
            for b in 0..<c.patch_freq { mel[m + b] = min(max(lo + (patches[p + b] + 1) / 2 * span, lo), hi) }
        }
    }

    /// Un-patchifies [tokens, pt·pf] into a [frames, n_mels] image as they are
    /// (the normalized space, no dB mapping); `clamp` limits them to [−1, 1].
    public static func image(_ out: UnsafeMutablePointer<Float>, patches: UnsafePointer<Float>, _ c: ModelConfig, clamp: Bool) {
        forEachRun(c) { m, p in
            for b in 0..<c.patch_freq { out[m + b] = clamp ? min(max(patches[p + b], -1), 1) : patches[p + b] }
        }
    }

    /// Patchifies a [frames, n_mels] image (e.g. a gradient) as it is into [tokens, pt·pf].
    public static func patches(_ out: UnsafeMutablePointer<Float>, image: UnsafePointer<Float>, _ c: ModelConfig) {
        forEachRun(c) { m, p in
            for b in 0..<c.patch_freq { out[p + b] = image[m + b] }
        }
    }
}

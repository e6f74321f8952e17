/// Mel ↔ patch vectors (MODEL.md steps 1, 2 and the inverse in 6).
/// Token n = it·nf + jf holds p_n[a·pf + b] = x[it·pt + a, jf·pf + b].
public enum Patches {
    /// Normalizes a [frames, n_mels] dB chunk to [-1, 1] and patchifies it into [tokens, pt·pf].
    public static func patchify(_ out: UnsafeMutablePointer<Float>, mel: UnsafePointer<Float>, _ c: ModelConfig) {
        let lo = Float(c.db_min), hi = Float(c.db_max), span = hi - lo
        for it in 0..<c.nt {
            for jf in 0..<c.nf {
                let p = out + (it * c.nf + jf) * c.patchDim
                for a in 0..<c.patch_time {
                    let row = mel + (it * c.patch_time + a) * c.n_mels + jf * c.patch_freq
                    for b in 0..<c.patch_freq {
                        let v = min(max(row[b], lo), hi)
                        p[a * c.patch_freq + b] = 2 * (v - lo) / span - 1
                    }
                }
            }
        }
    }

    /// Un-patchifies [tokens, pt·pf] and maps back to dB, clamped to [db_min, db_max].
    public static func unpatchify(_ mel: UnsafeMutablePointer<Float>, patches: UnsafePointer<Float>, _ c: ModelConfig) {
        let lo = Float(c.db_min), hi = Float(c.db_max), span = hi - lo
        for it in 0..<c.nt {
            for jf in 0..<c.nf {
                let p = patches + (it * c.nf + jf) * c.patchDim
                for a in 0..<c.patch_time {
                    let row = mel + (it * c.patch_time + a) * c.n_mels + jf * c.patch_freq
                    for b in 0..<c.patch_freq {
                        row[b] = min(max(lo + (p[a * c.patch_freq + b] + 1) / 2 * span, lo), hi)
                    }
                }
            }
        }
    }
}

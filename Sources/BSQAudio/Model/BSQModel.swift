/// A checkpoint ready to run: the typed network, its weights (in place in a
/// mapped F32 file when possible) and an arena for the activations, reused
/// from call to call. `encode` and `decode` run the network's one forward
/// pass in inference mode on `threads` workers with OpenBLAS pinned to one
/// thread, so every number a chunk gets is computed by the same calls
/// whatever the batch size or the thread count.
public final class BSQModel {
    public let checkpoint: Checkpoint
    public let network: BSQNetwork
    public var config: ModelConfig { checkpoint.config }
    public let threads: Int
    private let arena = Arena()

    public init(_ checkpoint: Checkpoint, threads: Int = 1) {
        self.checkpoint = checkpoint
        network = BSQNetwork(checkpoint.config)
        self.threads = max(1, threads)
        BLAS.setThreads(1)
    }

    private func pass(_ weights: Weights, batch: Int) -> Pass {
        arena.reset()
        return Pass(config: config, weights: weights, batch: batch, threads: threads, arena: arena, training: false)
    }

    /// Encodes `batch` chunks of dB mel ([batch, frames, n_mels]) into tokens
    /// [batch · tokens]; `u` (optional, [batch · tokens, L]) receives the
    /// normalized pre-quantization vectors.
    public func encode(mel: UnsafePointer<Float>, batch: Int, tokens: UnsafeMutablePointer<UInt64>,
                       u: UnsafeMutablePointer<Float>? = nil) {
        checkpoint.withWeights { w in
            let p = pass(w, batch: batch)
            let e = network.encode(p, mel: mel, tokens: tokens)
            u?.update(from: e.u, count: p.rows * config.embed_dim)
        }
    }

    /// Decodes tokens [batch · tokens] into dB mel [batch, frames, n_mels].
    public func decode(tokens: UnsafePointer<UInt64>, batch: Int, mel: UnsafeMutablePointer<Float>) {
        let c = config
        checkpoint.withWeights { w in
            let p = pass(w, batch: batch)
            let d = network.decode(p, tokens: tokens)
            p.workers.tasks(batch) { b, _ in
                Patches.unpatchify(mel + b * c.frames * c.n_mels, patches: d.y + b * c.tokens * c.patchDim, c)
            }
        }
    }
}

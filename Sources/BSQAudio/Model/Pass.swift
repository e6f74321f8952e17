/// What one pass of the network over a batch of chunks runs with: the
/// weights, the workers and their row blocks, and the arena its activations
/// come from. A training pass keeps every activation the backward needs and
/// updates the BatchNorm running statistics in `running`; an inference pass
/// reuses a few buffers block after block. A training pass takes the
/// forward's temporaries (what the backward recomputes instead of keeping)
/// from `scratch`.
public struct Pass {
    public let config: ModelConfig
    public let weights: Weights
    public let workers: Workers
    public let batch: Int
    public let arena: Arena
    public let scratch: Arena?
    public let training: Bool
    /// Where training BatchNorm updates its running statistics (nil: leave them, as when recomputing).
    public var running: ParameterBuffer?
    /// The processes whose rows training BatchNorm takes its statistics over (nil: this one's).
    public var across: Collective?

    public init(config: ModelConfig, weights: Weights, batch: Int, threads: Int, arena: Arena, scratch: Arena? = nil,
                training: Bool, running: ParameterBuffer? = nil) {
        precondition(!training || scratch != nil, "a training pass needs a scratch arena")
        self.config = config
        self.weights = weights
        self.batch = batch
        self.arena = arena
        self.scratch = scratch
        self.training = training
        self.running = running
        workers = Workers(threads: threads, rows: batch * config.tokens,
                          blockRows: training ? Workers.trainingBlock : Workers.chunkAlignedBlock(tokens: config.tokens))
    }

    public var rows: Int { workers.rows }

    /// The same pass without running-statistics updates (a block's forward run again for its backward).
    var recomputing: Pass { var p = self; p.running = nil; return p }
}

/// What a backward pass adds: the gradients (accumulated; zero them first)
/// and an arena for its temporaries, taken back layer by layer.
public struct Backward {
    public let pass: Pass
    public let grads: ParameterBuffer
    public let scratch: Arena
    var w: Weights { pass.weights }
    var workers: Workers { pass.workers }
}

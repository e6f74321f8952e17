/// One tensor of a network: its checkpoint key, shape, place in the flat
/// parameter buffer and how a fresh model initialises it. Layer types make
/// their parameters through a `ParameterBuilder`, so the key of every tensor
/// is spelled once, in the layer that owns it.
public struct Parameter: Sendable, Hashable {
    public enum Initial: Sendable, Hashable {
        /// Normal with mean 0 and this standard deviation.
        case normal(Double)
        /// Normal with this mean and standard deviation.
        case normalAround(Double, Double)
        case zeros
        case ones
        /// Every element this value.
        case constant(Double)
    }

    public let name: String
    public let shape: [Int]
    /// Position among the network's parameters and offset in the flat buffer.
    public let index: Int
    public let offset: Int
    public let initial: Initial
    public var count: Int { shape.reduce(1, *) }
}

/// Collects the parameters of a layer tree in order, under nested scopes
/// (`encoder` → `blocks.0` → `attn` → `in_proj_weight`).
public struct ParameterBuilder {
    public private(set) var parameters: [Parameter] = []
    private var path: [String] = []
    private var offset = 0

    public init() {}

    /// A tensor of the current scope.
    public mutating func tensor(_ name: String, _ shape: [Int], _ initial: Parameter.Initial) -> Parameter {
        let p = Parameter(name: (path + [name]).joined(separator: "."), shape: shape, index: parameters.count,
                          offset: offset, initial: initial)
        parameters.append(p)
        offset += p.count
        return p
    }

    /// Builds a sub-layer under `name`.
    public mutating func scope<T>(_ name: String, _ body: (inout ParameterBuilder) -> T) -> T {
        path.append(name)
        defer { path.removeLast() }
        return body(&self)
    }
}

/// Every weight of a model in one flat float buffer, with a named view per
/// checkpoint key, in the order the layer tree makes them. One allocation:
/// the optimizer, the EMA and the gradients use the same layout.
public struct ParameterLayout: Sendable {
    public typealias Slot = Parameter
    public let slots: [Parameter]
    public let count: Int
    private let index: [String: Int]

    public init(_ parameters: [Parameter]) {
        slots = parameters
        count = parameters.reduce(0) { $0 + $1.count }
        var ix: [String: Int] = [:]
        for p in parameters { ix[p.name] = p.index }
        index = ix
    }

    /// The layout of a model with this configuration.
    public init(_ c: ModelConfig) { self = BSQNetwork(c).layout }

    public func slot(_ name: String) -> Parameter? { index[name].map { slots[$0] } }

    /// Fresh values: every tensor as its layer asks, the normal draws from one
    /// generator seeded with `seed`, in the layout's order.
    public func initialValues(seed: UInt64) -> [Float] {
        var w = [Float](repeating: 0, count: count)
        var rng = SplitMix64(seed: seed)
        for s in slots {
            switch s.initial {
            case .zeros: continue
            case .ones: for i in 0..<s.count { w[s.offset + i] = 1 }
            case .constant(let v): for i in 0..<s.count { w[s.offset + i] = Float(v) }
            case .normal(let std): for i in 0..<s.count { w[s.offset + i] = Float(std * rng.normal()) }
            case .normalAround(let mean, let std): for i in 0..<s.count { w[s.offset + i] = Float(mean + std * rng.normal()) }
            }
        }
        return w
    }
}

/// Read-only pointers to every parameter of a layout: into one flat buffer,
/// or into the tensors of a mapped checkpoint file.
public struct Weights {
    let pointers: [UnsafePointer<Float>]

    public init(pointers: [UnsafePointer<Float>]) { self.pointers = pointers }

    public init(_ base: UnsafePointer<Float>, _ layout: ParameterLayout) {
        pointers = layout.slots.map { base + $0.offset }
    }

    @inline(__always)
    public subscript(_ p: Parameter) -> UnsafePointer<Float> { pointers[p.index] }
}

/// A writable flat buffer in a layout: the parameters being trained, or their gradients.
public struct ParameterBuffer {
    public let base: UnsafeMutablePointer<Float>

    public init(_ base: UnsafeMutablePointer<Float>) { self.base = base }

    @inline(__always)
    public subscript(_ p: Parameter) -> UnsafeMutablePointer<Float> { base + p.offset }
}

/// Element types of a BSQT frame, by their code in the header.
public enum DType: UInt8, Sendable, CaseIterable {
    case f32 = 1, f64 = 2, u8 = 3, i16 = 4, i32 = 5, u32 = 6, i64 = 7, f16 = 8, u64 = 9

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .u8: 1
        case .i16, .f16: 2
        case .f32, .i32, .u32: 4
        case .f64, .i64, .u64: 8
        }
    }

    public var name: String { "\(self)" }

    public init?(name: String) {
        guard let d = DType.allCases.first(where: { $0.name == name }) else { return nil }
        self = d
    }
}

/// A perceptually uniform colour map of 256 entries (ColormapData.swift,
/// made by tools/make-plot-tables.py, holds viridis and magma, taken from matplotlib).
public struct Colormap: Sendable {
    public let name: String
    public let colors: [RGB]

    init(name: String, hex: String) {
        self.name = name
        let digits = hex.utf8.map { c in c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : c - UInt8(ascii: "a") + 10 }
        precondition(digits.count == 256 * 6, "a colour map has 256 entries")
        colors = (0..<256).map { i in
            let d = Array(digits[(6 * i)..<(6 * i + 6)])
            return RGB(d[0] << 4 | d[1], d[2] << 4 | d[3], d[4] << 4 | d[5])
        }
    }

    public static let all: [Colormap] = [.viridis, .magma]

    public static func named(_ name: String) -> Colormap? { all.first { $0.name == name } }

    /// The colour of `t` in [0, 1] (clamped; NaN is the bottom of the map).
    @inline(__always) public func color(_ t: Float) -> RGB {
        guard t > 0 else { return colors[0] }
        guard t < 1 else { return colors[255] }
        return colors[min(255, Int(t * 256))]
    }
}

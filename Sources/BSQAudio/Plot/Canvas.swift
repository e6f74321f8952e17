/// An 8-bit colour.
public struct RGB: Equatable, Sendable {
    public var r, g, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    /// From 0xRRGGBB.
    public init(hex: UInt32) { self.init(UInt8(hex >> 16 & 0xFF), UInt8(hex >> 8 & 0xFF), UInt8(hex & 0xFF)) }

    public static let white = RGB(hex: 0xFFFFFF)
    public static let black = RGB(hex: 0x000000)
    /// Text and the darkest lines.
    public static let ink = RGB(hex: 0x222222)
}

/// A rectangle of whole pixels.
public struct PixelRect: Equatable, Sendable {
    public var x, y, width, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
}

/// An RGB raster to draw plots on: rectangles, anti-aliased lines, text. Drawing
/// outside the canvas is clipped.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major R, G, B bytes.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB = .white) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.r; pixels[3 * i + 1] = background.g; pixels[3 * i + 2] = background.b
        }
    }

    public subscript(x: Int, y: Int) -> RGB {
        let i = 3 * (y * width + x)
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Writes the image as a PNG file, atomically.
    public func write(to path: String) throws {
        let file = try AtomicFile(path: path)
        try file.write(png())
        try file.commit()
    }

    /// The image as the bytes of a PNG file.
    public func png(compression: Deflate.Mode = .fixed) -> [UInt8] {
        PNG.encode(width: width, height: height, rgb: pixels, compression: compression)
    }

    @inline(__always) public mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = 3 * (y * width + x)
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    /// Mixes `c` into a pixel with opacity `alpha` in [0, 1].
    @inline(__always) public mutating func blend(_ x: Int, _ y: Int, _ c: RGB, _ alpha: Float) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let a = min(alpha, 1)
        let i = 3 * (y * width + x)
        @inline(__always) func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8((Float(old) + (Float(new) - Float(old)) * a).rounded())
        }
        pixels[i] = mix(pixels[i], c.r); pixels[i + 1] = mix(pixels[i + 1], c.g); pixels[i + 2] = mix(pixels[i + 2], c.b)
    }

    public mutating func fill(_ r: PixelRect, _ c: RGB) {
        for y in max(0, r.y)..<max(max(0, r.y), min(height, r.maxY)) {
            for x in max(0, r.x)..<max(max(0, r.x), min(width, r.maxX)) { set(x, y, c) }
        }
    }

    /// A one-pixel outline just inside `r`.
    public mutating func stroke(_ r: PixelRect, _ c: RGB) {
        guard r.width > 0, r.height > 0 else { return }
        for x in r.x..<r.maxX { set(x, r.y, c); set(x, r.maxY - 1, c) }
        for y in r.y..<r.maxY { set(r.x, y, c); set(r.maxX - 1, y, c) }
    }

    /// Crisp one-pixel axis-parallel lines.
    public mutating func horizontalLine(y: Int, from x0: Int, to x1: Int, _ c: RGB) {
        for x in min(x0, x1)...max(x0, x1) { set(x, y, c) }
    }
    public mutating func verticalLine(x: Int, from y0: Int, to y1: Int, _ c: RGB) {
        for y in min(y0, y1)...max(y0, y1) { set(x, y, c) }
    }

    /// An anti-aliased polyline of `lineWidth` pixels through `points`
    /// (pixel coordinates, (0, 0) the top left corner of the top left pixel),
    /// clipped to `clip`. A pixel's coverage is its largest over the segments,
    /// so joints are not drawn twice.
    public mutating func polyline(_ points: [(x: Double, y: Double)], color: RGB, lineWidth: Double = 1.5, clip: PixelRect? = nil) {
        guard !points.isEmpty else { return }
        let box = clip ?? PixelRect(x: 0, y: 0, width: width, height: height)
        let x0 = max(0, box.x), y0 = max(0, box.y), x1 = min(width, box.maxX), y1 = min(height, box.maxY)
        guard x1 > x0, y1 > y0 else { return }
        let cw = x1 - x0
        var coverage = [Float](repeating: 0, count: cw * (y1 - y0))
        let half = lineWidth / 2
        let segments = points.count == 1 ? [(points[0], points[0])] : Array(zip(points, points.dropFirst()))
        for (p, q) in segments {
            let lo = (x: Int((min(p.x, q.x) - half - 1).rounded(.down)), y: Int((min(p.y, q.y) - half - 1).rounded(.down)))
            let hi = (x: Int((max(p.x, q.x) + half + 1).rounded(.up)), y: Int((max(p.y, q.y) + half + 1).rounded(.up)))
            let dx = q.x - p.x, dy = q.y - p.y
            let length2 = dx * dx + dy * dy
            for py in max(y0, lo.y)..<max(max(y0, lo.y), min(y1, hi.y)) {
                for px in max(x0, lo.x)..<max(max(x0, lo.x), min(x1, hi.x)) {
                    let cx = Double(px) + 0.5 - p.x, cy = Double(py) + 0.5 - p.y
                    let t = length2 > 0 ? min(1, max(0, (cx * dx + cy * dy) / length2)) : 0
                    let ex = cx - t * dx, ey = cy - t * dy
                    let cover = Float(min(1, max(0, half + 0.5 - (ex * ex + ey * ey).squareRoot())))
                    let i = (py - y0) * cw + (px - x0)
                    if cover > coverage[i] { coverage[i] = cover }
                }
            }
        }
        for y in y0..<y1 {
            for x in x0..<x1 where coverage[(y - y0) * cw + (x - x0)] > 0 {
                blend(x, y, color, coverage[(y - y0) * cw + (x - x0)])
            }
        }
    }

    /// A filled anti-aliased disc.
    public mutating func dot(x: Double, y: Double, radius: Double, color: RGB) {
        for py in Int((y - radius - 1).rounded(.down))...Int((y + radius + 1).rounded(.up)) {
            for px in Int((x - radius - 1).rounded(.down))...Int((x + radius + 1).rounded(.up)) {
                let dx = Double(px) + 0.5 - x, dy = Double(py) + 0.5 - y
                blend(px, py, color, Float(min(1, max(0, radius + 0.5 - (dx * dx + dy * dy).squareRoot()))))
            }
        }
    }

    public enum Align: Sendable { case left, center, right }

    /// Draws one line of text whose line box has its top at `y`; `x` is
    /// its left edge, middle or right edge by `align`.
    public mutating func text(_ s: String, x: Int, y: Int, font: BitmapFont = .regular, color: RGB = .ink, align: Align = .left) {
        let w = font.width(s)
        let left = align == .left ? x : align == .center ? x - w / 2 : x - w
        font.forEachPixel(s) { gx, gy, a in blend(left + gx, y + gy, color, Float(a) / 255) }
    }

    /// Draws text turned a quarter turn anticlockwise (reading upwards),
    /// centred vertically on `y`, with the top of its line box at column `x`.
    public mutating func verticalText(_ s: String, x: Int, y: Int, font: BitmapFont = .regular, color: RGB = .ink) {
        let bottom = y + font.width(s) / 2
        font.forEachPixel(s) { gx, gy, a in blend(x + gy, bottom - gx, color, Float(a) / 255) }
    }
}

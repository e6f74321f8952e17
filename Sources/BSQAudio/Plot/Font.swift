/// A proportional bitmap font for ASCII 32–126 with 16 levels of alpha per
/// pixel (the faces are in FontData.swift, made by tools/make-plot-tables.py).
/// Other characters are drawn as `?`.
public struct BitmapFont: Sendable {
    /// Line height in pixels, and the baseline's distance from the top of the line.
    public let height: Int
    public let ascent: Int
    let advances: [Int]
    let offsets: [Int]
    let widths: [Int]
    /// Where each glyph's `height × width` alpha values start in `alpha`.
    let starts: [Int]
    /// Alpha values 0–255, glyph after glyph, row-major.
    let alpha: [UInt8]

    init(height: Int, ascent: Int, advances: [Int], offsets: [Int], widths: [Int], alpha: String) {
        precondition(advances.count == 95 && offsets.count == 95 && widths.count == 95)
        self.height = height
        self.ascent = ascent
        self.advances = advances
        self.offsets = offsets
        self.widths = widths
        var starts: [Int] = [], total = 0
        for w in widths { starts.append(total); total += w * height }
        self.starts = starts
        self.alpha = alpha.utf8.map { c in
            let v = c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : c - UInt8(ascii: "a") + 10
            return v * 17
        }
        precondition(self.alpha.count == total, "font data does not match the glyph widths")
    }

    /// Index of the glyph drawn for `c`.
    @inline(__always) func glyph(_ c: Unicode.Scalar) -> Int { (32...126).contains(c.value) ? Int(c.value) - 32 : Int(UInt8(ascii: "?")) - 32 }

    /// Width of `text` in pixels: the sum of its advances.
    public func width(_ text: String) -> Int { text.unicodeScalars.reduce(0) { $0 + advances[glyph($1)] } }

    /// Calls `body(x, y, alpha)` for every inked pixel of `text` laid out
    /// from the origin (0, 0), the top left of its line.
    func forEachPixel(_ text: String, _ body: (Int, Int, UInt8) -> Void) {
        var pen = 0
        for c in text.unicodeScalars {
            let g = glyph(c)
            let w = widths[g], start = starts[g]
            for y in 0..<height {
                for x in 0..<w {
                    let a = alpha[start + y * w + x]
                    if a > 0 { body(pen + offsets[g] + x, y, a) }
                }
            }
            pen += advances[g]
        }
    }
}

/// Axes drawn the same way in every figure: grey frame, light grid lines at
/// the ticks, labels outside the frame.
extension Canvas {
    static let frameColor = RGB(hex: 0x888888)
    static let gridColor = RGB(hex: 0xE6E6E6)
    static let tickLength = 4

    /// Tick marks and labels of `axis` below `plot`; grid lines across it with `grid`.
    public mutating func xTicks(_ axis: Axis, plot: PixelRect, grid: Bool, compact: Bool = false) {
        for v in axis.ticks {
            let x = plot.x + Int((axis.fraction(v) * Double(plot.width - 1)).rounded())
            if grid { verticalLine(x: x, from: plot.y + 1, to: plot.maxY - 2, Canvas.gridColor) }
            verticalLine(x: x, from: plot.maxY, to: plot.maxY + Canvas.tickLength - 1, Canvas.frameColor)
            text(axis.label(v, compact: compact), x: x, y: plot.maxY + Canvas.tickLength + 1, align: .center)
        }
    }

    /// Tick marks and labels of `axis` left of `plot` (or right of it with `right`).
    public mutating func yTicks(_ axis: Axis, plot: PixelRect, grid: Bool, right: Bool = false) {
        let font = BitmapFont.regular
        for v in axis.ticks {
            let y = plot.maxY - 1 - Int((axis.fraction(v) * Double(plot.height - 1)).rounded())
            if grid { horizontalLine(y: y, from: plot.x + 1, to: plot.maxX - 2, Canvas.gridColor) }
            let top = y - font.ascent + 4   // the middle of a digit on the tick
            if right {
                horizontalLine(y: y, from: plot.maxX, to: plot.maxX + Canvas.tickLength - 1, Canvas.frameColor)
                text(axis.label(v), x: plot.maxX + Canvas.tickLength + 3, y: top)
            } else {
                horizontalLine(y: y, from: plot.x - Canvas.tickLength, to: plot.x - 1, Canvas.frameColor)
                text(axis.label(v), x: plot.x - Canvas.tickLength - 3, y: top, align: .right)
            }
        }
    }

    /// The widest tick label of `axis`.
    static func labelWidth(_ axis: Axis, compact: Bool = false) -> Int {
        axis.ticks.map { BitmapFont.regular.width(axis.label($0, compact: compact)) }.max() ?? 0
    }
}

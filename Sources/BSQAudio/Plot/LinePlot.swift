import Foundation

/// Line charts stacked in panels that share one x axis: nice ticks, an
/// optional log y axis per panel, a legend placed in the emptiest corner.
public struct LinePlot: Sendable {
    /// One line. A NaN y leaves a gap. `faded` lines (raw values behind a
    /// smoothed one) are drawn light and have no legend entry.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: RGB
        public var faded = false
        public init(name: String, points: [(x: Double, y: Double)], color: RGB, faded: Bool = false) {
            self.name = name; self.points = points; self.color = color; self.faded = faded
        }
    }

    public struct Panel: Sendable {
        public var title: String
        public var series: [Series]
        public var logY: Bool
        public init(title: String, series: [Series], logY: Bool = false) {
            self.title = title; self.series = series; self.logY = logY
        }
    }

    /// matplotlib's "tab10" colours, in order.
    public static let palette: [RGB] = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD,
                                        0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF].map { RGB(hex: $0) }

    public var title: String?
    public var xLabel: String
    public var panels: [Panel]
    public var width = 1000
    /// Height of each panel's plotting area.
    public var panelHeight = 220

    public init(title: String? = nil, xLabel: String, panels: [Panel]) {
        self.title = title; self.xLabel = xLabel; self.panels = panels
    }

    static let margin = 16, panelGap = 22

    /// The y axis of a panel: log when asked for and some value is positive.
    static func yAxis(_ panel: Panel) -> Axis? {
        let ys = panel.series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        if panel.logY, let lo = ys.filter({ $0 > 0 }).min(), let hi = ys.max() {
            return .logarithmic(lo, hi, pad: 0.04)
        }
        guard let lo = ys.min(), let hi = ys.max() else { return nil }
        return .linear(lo, hi, target: 5, pad: 0.05)
    }

    public func render() -> Canvas {
        let regular = BitmapFont.regular, bold = BitmapFont.bold
        let xs = panels.flatMap { $0.series.flatMap { $0.points.filter { $0.y.isFinite }.map(\.x) } }.filter(\.isFinite)
        let xAxis = Axis.linear(xs.min() ?? 0, xs.max() ?? 1, target: 8)
        let yAxes = panels.map(Self.yAxis)
        let m = Self.margin
        let left = m + max(24, yAxes.compactMap { $0.map { Canvas.labelWidth($0) } }.max() ?? 0) + Canvas.tickLength + 4
        let lastX = xAxis.label(xAxis.ticks.last ?? 0, compact: true)
        let right = m + max(8, regular.width(lastX) / 2)
        let titleHeight = title == nil ? 0 : bold.height + 10
        let panelBlock = bold.height + 6 + panelHeight + Canvas.tickLength + regular.height + 2
        let height = m + titleHeight + panels.count * panelBlock + max(0, panels.count - 1) * Self.panelGap
            + 6 + regular.height + m
        var canvas = Canvas(width: width, height: max(height, 2 * m + 1))
        let plotWidth = max(40, width - left - right)

        var top = m
        if let title {
            canvas.text(title, x: width / 2, y: top, font: bold, align: .center)
            top += titleHeight
        }
        for (i, panel) in panels.enumerated() {
            canvas.text(panel.title, x: left, y: top, font: bold)
            top += bold.height + 6
            let plot = PixelRect(x: left, y: top, width: plotWidth, height: panelHeight)
            canvas.xTicks(xAxis, plot: plot, grid: true, compact: true)
            if let yAxis = yAxes[i] {
                canvas.yTicks(yAxis, plot: plot, grid: true)
                draw(panel, in: plot, x: xAxis, y: yAxis, on: &canvas)
            } else {
                canvas.text("no data", x: plot.x + plot.width / 2, y: plot.y + plot.height / 2 - regular.height / 2,
                            color: Canvas.frameColor, align: .center)
            }
            canvas.stroke(plot, Canvas.frameColor)
            top += panelHeight + Canvas.tickLength + regular.height + 2 + Self.panelGap
        }
        top -= Self.panelGap
        canvas.text(xLabel, x: left + plotWidth / 2, y: top + 6, align: .center)
        return canvas
    }

    /// The lines of a panel, then its legend.
    func draw(_ panel: Panel, in plot: PixelRect, x: Axis, y: Axis, on canvas: inout Canvas) {
        // Points at pixel centres, so that flat stretches are crisp.
        func pixel(_ p: (x: Double, y: Double)) -> (x: Double, y: Double) {
            (Double(plot.x) + 0.5 + (x.fraction(p.x) * Double(plot.width - 1)).rounded(),
             Double(plot.maxY) - 0.5 - (y.fraction(p.y) * Double(plot.height - 1)).rounded())
        }
        let inner = PixelRect(x: plot.x + 1, y: plot.y + 1, width: plot.width - 2, height: plot.height - 2)
        var drawn: [(x: Double, y: Double)] = []
        for series in panel.series.sorted(by: { $0.faded && !$1.faded }) {
            let color = series.faded ? mixWhite(series.color, 0.7) : series.color
            let usable = series.points.filter { $0.x.isFinite && (!y.log || $0.y > 0 || $0.y.isNaN) }
            var run: [(x: Double, y: Double)] = []
            for p in usable + [(x: 0, y: .nan)] {
                if p.y.isFinite {
                    run.append(pixel(p))
                } else if !run.isEmpty {
                    canvas.polyline(run, color: color, lineWidth: series.faded ? 1 : 1.6, clip: inner)
                    drawn += run
                    run = []
                }
            }
            let finite = usable.filter { $0.y.isFinite }
            if !series.faded && finite.count <= 60 {
                for p in finite {
                    let q = pixel(p)
                    canvas.dot(x: q.x, y: q.y, radius: 2.4, color: color)
                }
            }
        }
        let entries = panel.series.filter { !$0.faded }
        guard entries.count > 1 else { return }
        legend(entries, plot: plot, avoiding: drawn, on: &canvas)
    }

    /// A boxed legend in the corner of `plot` that covers the fewest drawn points.
    func legend(_ entries: [Series], plot: PixelRect, avoiding points: [(x: Double, y: Double)], on canvas: inout Canvas) {
        let font = BitmapFont.regular
        let swatch = 18, pad = 6, lineHeight = font.height + 2
        let w = swatch + 6 + (entries.map { font.width($0.name) }.max() ?? 0) + 2 * pad
        let h = entries.count * lineHeight + 2 * pad - 2
        let inset = 8
        let corners = [PixelRect(x: plot.maxX - inset - w, y: plot.y + inset, width: w, height: h),
                       PixelRect(x: plot.x + inset, y: plot.y + inset, width: w, height: h),
                       PixelRect(x: plot.maxX - inset - w, y: plot.maxY - inset - h, width: w, height: h),
                       PixelRect(x: plot.x + inset, y: plot.maxY - inset - h, width: w, height: h)]
        func covered(_ r: PixelRect) -> Int {
            points.reduce(0) { n, p in
                n + (p.x >= Double(r.x) && p.x < Double(r.maxX) && p.y >= Double(r.y) && p.y < Double(r.maxY) ? 1 : 0)
            }
        }
        let box = corners.min { covered($0) < covered($1) }!
        canvas.fill(box, .white)
        canvas.stroke(box, RGB(hex: 0xCCCCCC))
        for (i, e) in entries.enumerated() {
            let top = box.y + pad + i * lineHeight
            let mid = Double(top) + Double(font.ascent) - 3.5
            canvas.polyline([(Double(box.x + pad), mid), (Double(box.x + pad + swatch), mid)], color: e.color, lineWidth: 2)
            canvas.text(e.name, x: box.x + pad + swatch + 6, y: top)
        }
    }

    func mixWhite(_ c: RGB, _ t: Double) -> RGB {
        func m(_ v: UInt8) -> UInt8 { UInt8((Double(v) + (255 - Double(v)) * t).rounded()) }
        return RGB(m(c.r), m(c.g), m(c.b))
    }
}

import Foundation

/// Mel spectrograms as images stacked one above another on one colour scale
/// and one time axis: time to the right, mel bins upwards (low frequencies at
/// the bottom), a colour bar in dB at the right.
public struct SpectrogramPlot: Sendable {
    public struct Panel: Sendable {
        public var title: String
        /// Row-major `[frames, nMels]`, in dB.
        public var values: [Float]
        public var frames: Int
        public var nMels: Int
        /// Hop length over sample rate, when the metadata says.
        public var secondsPerFrame: Double?

        public init(title: String, values: [Float], frames: Int, nMels: Int, secondsPerFrame: Double? = nil) {
            precondition(values.count == frames * nMels)
            self.title = title; self.values = values; self.frames = frames; self.nMels = nMels
            self.secondsPerFrame = secondsPerFrame
        }

        /// A panel of a mel frame, timed by `mel.hop_length / mel.sample_rate` of its metadata.
        public init(_ mel: MelFrame, title: String) {
            let analysis = mel.frame.meta["mel"]
            var spf: Double?
            if let hop = analysis?["hop_length"]?.number, let sr = analysis?["sample_rate"]?.number, hop > 0, sr > 0 {
                spf = hop / sr
            }
            self.init(title: title, values: mel.values, frames: mel.frames, nMels: mel.nMels, secondsPerFrame: spf)
        }
    }

    public var title: String?
    public var panels: [Panel]
    public var dbMin = -80.0
    public var dbMax = 0.0
    public var colormap = Colormap.viridis

    public init(title: String? = nil, panels: [Panel]) {
        self.title = title; self.panels = panels
    }

    static let margin = 16, panelGap = 16, barWidth = 14
    static let background = RGB(hex: 0xF0F0F0)

    /// Width of the images: at least 700 pixels (whole pixels per frame), at
    /// most 1400 (frames averaged together).
    static func imageWidth(frames: Int) -> Int {
        let f = max(1, frames)
        if f >= 1400 { return 1400 }
        if f >= 700 { return f }
        return f * Int((700.0 / Double(f)).rounded(.up))
    }

    /// Height of an image: about 256 pixels (whole pixels per bin), at most 512.
    static func imageHeight(nMels: Int) -> Int {
        let n = max(1, nMels)
        if n >= 512 { return 512 }
        return n * max(1, 256 / n)
    }

    public func render() -> Canvas {
        let regular = BitmapFont.regular, bold = BitmapFont.bold
        let maxFrames = panels.map(\.frames).max() ?? 1
        let spf = panels.first?.secondsPerFrame
        let timed = spf != nil && panels.allSatisfy { $0.secondsPerFrame == spf }
        let duration = Double(max(1, maxFrames)) * (timed ? spf! : 1)
        let xAxis = Axis.linear(0, duration, target: 10)
        let yAxes = panels.map { Axis.linear(0, Double(max(1, $0.nMels)), target: 4) }
        let dbAxis = Axis.linear(dbMin, dbMax, target: 5)

        let m = Self.margin
        let imageWidth = Self.imageWidth(frames: maxFrames)
        let left = m + regular.height + 4 + max(20, yAxes.map { Canvas.labelWidth($0) }.max() ?? 0) + Canvas.tickLength + 4
        let barX = left + imageWidth + 18
        let width = barX + Self.barWidth + Canvas.tickLength + 4 + Canvas.labelWidth(dbAxis) + 6 + regular.height + m
        let titleHeight = title == nil ? 0 : bold.height + 10
        let heights = panels.map { Self.imageHeight(nMels: $0.nMels) }
        let block = regular.height + 4 + Canvas.tickLength + regular.height + 2
        let height = m + titleHeight + heights.reduce(0, +) + panels.count * block
            + max(0, panels.count - 1) * Self.panelGap + 6 + regular.height + m
        var canvas = Canvas(width: width, height: height)

        var top = m
        if let title {
            canvas.text(title, x: left + imageWidth / 2, y: top, font: bold, align: .center)
            top += titleHeight
        }
        var imagesTop = 0, imagesBottom = 0
        for (i, panel) in panels.enumerated() {
            canvas.text(panel.title, x: left, y: top)
            top += regular.height + 4
            let plot = PixelRect(x: left, y: top, width: imageWidth, height: heights[i])
            if i == 0 { imagesTop = plot.y }
            imagesBottom = plot.maxY
            canvas.fill(plot, Self.background)
            drawImage(panel, in: plot, columns: Int((Double(imageWidth) * Double(panel.frames) / Double(max(1, maxFrames))).rounded()),
                      on: &canvas)
            canvas.xTicks(xAxis, plot: plot, grid: false)
            canvas.yTicks(yAxes[i], plot: plot, grid: false)
            canvas.verticalText("mel bin", x: m, y: plot.y + plot.height / 2)
            canvas.stroke(PixelRect(x: plot.x - 1, y: plot.y - 1, width: plot.width + 2, height: plot.height + 2), Canvas.frameColor)
            top = plot.maxY + Canvas.tickLength + regular.height + 2 + Self.panelGap
        }
        top -= Self.panelGap
        canvas.text(timed ? "time (s)" : "frame", x: left + imageWidth / 2, y: top + 6, align: .center)

        // The colour bar, beside every image at once.
        let bar = PixelRect(x: barX, y: imagesTop, width: Self.barWidth, height: max(1, imagesBottom - imagesTop))
        for y in bar.y..<bar.maxY {
            let t = 1 - (Double(y - bar.y) + 0.5) / Double(bar.height)
            canvas.horizontalLine(y: y, from: bar.x, to: bar.maxX - 1, colormap.color(Float(t)))
        }
        canvas.yTicks(dbAxis, plot: bar, grid: false, right: true)
        canvas.stroke(PixelRect(x: bar.x - 1, y: bar.y - 1, width: bar.width + 2, height: bar.height + 2), Canvas.frameColor)
        canvas.verticalText("dB", x: width - m - regular.height, y: bar.y + bar.height / 2)
        return canvas
    }

    /// The panel's values in the first `columns` columns of `plot`, each
    /// pixel the mean of the cells it covers (or the one cell it lies in).
    func drawImage(_ panel: Panel, in plot: PixelRect, columns: Int, on canvas: inout Canvas) {
        guard panel.frames > 0, panel.nMels > 0, columns > 0 else { return }
        let range = Float(dbMax - dbMin)
        // Pixel p of n over a length of k cells covers cells [p·k/n, (p+1)·k/n).
        func cells(_ p: Int, _ n: Int, _ k: Int) -> Range<Int> {
            let a = p * k / n, b = max(a + 1, ((p + 1) * k + n - 1) / n)
            return a..<min(b, k)
        }
        let rows = plot.height
        for px in 0..<min(columns, plot.width) {
            let t = cells(px, columns, panel.frames)
            for py in 0..<rows {
                let m = cells(rows - 1 - py, rows, panel.nMels)   // bin 0 at the bottom
                var sum: Float = 0
                for f in t { for b in m { sum += panel.values[f * panel.nMels + b] } }
                let v = sum / Float(t.count * m.count)
                canvas.set(plot.x + px, plot.y + py, colormap.color((v - Float(dbMin)) / range))
            }
        }
    }
}

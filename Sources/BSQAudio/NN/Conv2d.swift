/// 2-D convolution kernels, PyTorch's `nn.Conv2d` layout: images NCHW, weight
/// [out, in, kh, kw], bias [out], zero padding (ph, pw), stride (sh, sw):
///     out[o, y, x] = bias[o] + Σ_{c,i,j} W[o, c, i, j] · in[c, y·sh − ph + i, x·sw − pw + j]
/// through im2col: the columns [c·kh·kw + i·kw + j, y·Wo + x] of one image,
/// then one sgemm  out [O, Ho·Wo] = W [O, C·kh·kw] · cols.
public struct Conv2dShape: Sendable, Equatable {
    public let channels: Int, outChannels: Int, height: Int, width: Int
    public let kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int
    public var outHeight: Int { (height + 2 * padH - kernelH) / strideH + 1 }
    public var outWidth: Int { (width + 2 * padW - kernelW) / strideW + 1 }
    /// Rows of the columns matrix (C·kh·kw) and its columns (Ho·Wo).
    public var patch: Int { channels * kernelH * kernelW }
    public var positions: Int { outHeight * outWidth }
    public var inputCount: Int { channels * height * width }
    public var outputCount: Int { outChannels * positions }

    /// A square kernel, stride and padding.
    public init(channels: Int, outChannels: Int, height: Int, width: Int, kernel: Int, stride: Int, pad: Int) {
        self.init(channels: channels, outChannels: outChannels, height: height, width: width,
                  kernel: (kernel, kernel), stride: (stride, stride), pad: (pad, pad))
    }

    /// (height, width) pairs, as PyTorch's tuples.
    public init(channels: Int, outChannels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int)) {
        self.channels = channels; self.outChannels = outChannels; self.height = height; self.width = width
        (kernelH, kernelW) = kernel; (strideH, strideW) = stride; (padH, padW) = pad
    }
}

public enum Conv2d {
    /// Calls `body(row, iy, ix0, xo range)` for every columns row (c, i, j) and
    /// output row y: the input row iy (nil outside the image) and, for output
    /// columns xo in `inside`, the input column ix0 + xo·sw (outside `inside` it falls in the padding).
    @inline(__always)
    static func walk(_ s: Conv2dShape, _ body: (_ row: Int, _ y: Int, _ iy: Int?, _ j: Int, _ inside: Range<Int>) -> Void) {
        let Ho = s.outHeight, Wo = s.outWidth
        for c in 0..<s.channels {
            for i in 0..<s.kernelH {
                for j in 0..<s.kernelW {
                    // xo with 0 ≤ xo·sw − pw + j < width
                    let lo = max(0, (s.padW - j + s.strideW - 1) / s.strideW)
                    let hi = min(Wo, s.width + s.padW - j <= 0 ? 0 : (s.width + s.padW - j - 1) / s.strideW + 1)
                    let row = (c * s.kernelH + i) * s.kernelW + j
                    for y in 0..<Ho {
                        let iy = y * s.strideH - s.padH + i
                        body(row, y, iy >= 0 && iy < s.height ? c * s.height + iy : nil, j, lo..<max(lo, hi))
                    }
                }
            }
        }
    }

    /// cols [C·kh·kw, Ho·Wo] of one image x [C, H, W].
    public static func im2col(_ cols: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ s: Conv2dShape) {
        let Ho = s.outHeight, Wo = s.outWidth, sw = s.strideW
        walk(s) { row, y, inputRow, j, inside in
            let out = cols + row * Ho * Wo + y * Wo
            guard let inputRow else { out.initialize(repeating: 0, count: Wo); return }
            let src = x + inputRow * s.width + j - s.padW
            for xo in 0..<inside.lowerBound { out[xo] = 0 }
            if sw == 1 {
                (out + inside.lowerBound).initialize(from: src + inside.lowerBound, count: inside.count)
            } else {
                for xo in inside { out[xo] = src[xo * sw] }
            }
            for xo in inside.upperBound..<Wo { out[xo] = 0 }
        }
    }

    /// dx [C, H, W] += the columns' gradient dcols [C·kh·kw, Ho·Wo] put back in place.
    public static func col2im(_ dx: UnsafeMutablePointer<Float>, _ dcols: UnsafePointer<Float>, _ s: Conv2dShape) {
        let Ho = s.outHeight, Wo = s.outWidth, sw = s.strideW
        walk(s) { row, y, inputRow, j, inside in
            guard let inputRow else { return }
            let src = dcols + row * Ho * Wo + y * Wo
            let dst = dx + inputRow * s.width + j - s.padW
            for xo in inside { dst[xo * sw] += src[xo] }
        }
    }

    /// One image: out [O, Ho·Wo] = W · im2col(x) + b; `cols` holds [C·k·k, Ho·Wo].
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, cols: UnsafeMutablePointer<Float>, _ s: Conv2dShape) {
        im2col(cols, x, s)
        let P = s.positions
        if let bias { for o in 0..<s.outChannels { (out + o * P).initialize(repeating: bias[o], count: P) } }
        BLAS.sgemm(m: s.outChannels, n: P, k: s.patch, a: weight, b: cols, beta: bias == nil ? 0 : 1, c: out)
    }

    /// One image's gradients, accumulated: dW += dout · colsᵀ, db += Σ dout, and
    /// (when `dx` is given) dx += col2im(Wᵀ · dout). `cols` holds im2col(x)
    /// (remade here) and `dcols` room for [C·k·k, Ho·Wo].
    public static func backward(dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                cols: UnsafeMutablePointer<Float>, dcols: UnsafeMutablePointer<Float>, _ s: Conv2dShape) {
        let P = s.positions
        if let dweight {
            im2col(cols, x, s)
            BLAS.sgemm(transB: true, m: s.outChannels, n: s.patch, k: P, a: dout, b: cols, beta: 1, c: dweight)
        }
        if let dbias {
            for o in 0..<s.outChannels {
                var sum: Float = 0
                for p in 0..<P { sum += dout[o * P + p] }
                dbias[o] += sum
            }
        }
        if let dx {
            BLAS.sgemm(transA: true, m: s.patch, n: P, k: s.outChannels, a: weight, b: dout, c: dcols)
            col2im(dx, dcols, s)
        }
    }
}

/// LeakyReLU with slope `a` for x < 0, in place; its backward from the output
/// (whose sign is the input's): dx = dout · (y > 0 ? 1 : a).
public enum LeakyReLU {
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int, slope a: Float) {
        for i in 0..<count where x[i] < 0 { x[i] *= a }
    }

    public static func backward(_ d: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, count: Int, slope a: Float) {
        for i in 0..<count where !(y[i] > 0) { d[i] *= a }
    }
}

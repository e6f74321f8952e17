/// 2-D convolution kernels, PyTorch's `nn.Conv2d` layout: images NCHW, weight
/// [out, in, kh, kw], bias [out], zero padding `pad` on every side, stride `stride`:
///     out[o, y, x] = bias[o] + Σ_{c,i,j} W[o, c, i, j] · in[c, y·s − p + i, x·s − p + j]
/// through im2col: the columns [c·kh·kw + i·kw + j, y·Wo + x] of one image,
/// then one sgemm  out [O, Ho·Wo] = W [O, C·kh·kw] · cols.
public struct Conv2dShape: Sendable, Equatable {
    public let channels: Int, outChannels: Int, height: Int, width: Int, kernel: Int, stride: Int, pad: Int
    public var outHeight: Int { (height + 2 * pad - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * pad - kernel) / stride + 1 }
    /// Rows of the columns matrix (C·k·k) and its columns (Ho·Wo).
    public var patch: Int { channels * kernel * kernel }
    public var positions: Int { outHeight * outWidth }
    public var inputCount: Int { channels * height * width }
    public var outputCount: Int { outChannels * positions }

    public init(channels: Int, outChannels: Int, height: Int, width: Int, kernel: Int, stride: Int, pad: Int) {
        self.channels = channels; self.outChannels = outChannels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.pad = pad
    }
}

public enum Conv2d {
    /// cols [C·k·k, Ho·Wo] of one image x [C, H, W].
    public static func im2col(_ cols: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ s: Conv2dShape) {
        let k = s.kernel, Ho = s.outHeight, Wo = s.outWidth
        for c in 0..<s.channels {
            for i in 0..<k {
                for j in 0..<k {
                    let row = cols + ((c * k + i) * k + j) * Ho * Wo
                    for y in 0..<Ho {
                        let iy = y * s.stride - s.pad + i
                        let out = row + y * Wo
                        if iy < 0 || iy >= s.height {
                            out.initialize(repeating: 0, count: Wo)
                            continue
                        }
                        let src = x + (c * s.height + iy) * s.width
                        for xo in 0..<Wo {
                            let ix = xo * s.stride - s.pad + j
                            out[xo] = ix >= 0 && ix < s.width ? src[ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// dx [C, H, W] += the columns' gradient dcols [C·k·k, Ho·Wo] put back in place.
    public static func col2im(_ dx: UnsafeMutablePointer<Float>, _ dcols: UnsafePointer<Float>, _ s: Conv2dShape) {
        let k = s.kernel, Ho = s.outHeight, Wo = s.outWidth
        for c in 0..<s.channels {
            for i in 0..<k {
                for j in 0..<k {
                    let row = dcols + ((c * k + i) * k + j) * Ho * Wo
                    for y in 0..<Ho {
                        let iy = y * s.stride - s.pad + i
                        if iy < 0 || iy >= s.height { continue }
                        let dst = dx + (c * s.height + iy) * s.width
                        for xo in 0..<Wo {
                            let ix = xo * s.stride - s.pad + j
                            if ix >= 0 && ix < s.width { dst[ix] += row[y * Wo + xo] }
                        }
                    }
                }
            }
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

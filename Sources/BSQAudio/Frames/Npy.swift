/// numpy's `.npy` format (versions 1.0, 2.0 and 3.0): conversion to and from frames.
///
/// Writing produces version 1.0 (2.0 when the header needs it), little-endian,
/// C order, the header padded to 64 bytes as numpy does. Reading accepts big-endian
/// data and Fortran order and converts them; dtypes without a BSQT code are refused.
public enum Npy {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    static func descr(_ d: DType) -> String {
        switch d {
        case .f32: "<f4"
        case .f64: "<f8"
        case .u8: "|u1"
        case .i16: "<i2"
        case .i32: "<i4"
        case .u32: "<u4"
        case .i64: "<i8"
        case .f16: "<f2"
        case .u64: "<u8"
        }
    }

    /// The `.npy` bytes of a frame's tensor (its metadata is not part of it).
    public static func encode(_ frame: Frame) -> [UInt8] {
        let shape = frame.dims.count == 1 ? "(\(frame.dims[0]),)" : "(" + frame.dims.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr(frame.dtype))', 'fortran_order': False, 'shape': \(shape), }"
        var version: UInt8 = 1
        var prefix = 10
        if dict.utf8.count + 1 + prefix > 65535 {
            version = 2
            prefix = 12
        }
        let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        var out = magic + [version, 0]
        if version == 1 { out.appendLE(UInt16(dict.utf8.count)) } else { out.appendLE(UInt32(dict.utf8.count)) }
        out += Array(dict.utf8)
        out += frame.payload
        return out
    }

    /// Parses `.npy` bytes into a frame (C order, little-endian) with empty metadata.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Frame {
        func bad(_ why: String) -> BSQError { BSQError("\(name): \(why)") }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw bad("not a .npy file") }
        let major = bytes[6]
        let headerStart: Int
        let headerLen: Int
        switch major {
        case 1:
            headerLen = Int(bytes.loadLE(UInt16.self, at: 8))
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated .npy header") }
            headerLen = Int(bytes.loadLE(UInt32.self, at: 8))
            headerStart = 12
        default: throw bad("unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerStart + headerLen <= bytes.count else { throw bad("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLen], as: UTF8.self)
        guard let descr = field(header, "descr").flatMap(quoted),
            let fortranText = field(header, "fortran_order"),
            let shapeText = field(header, "shape")
        else { throw bad("unreadable .npy header: \(header.trimmingCharacters(in: .whitespacesAndNewlines))") }
        let fortran = fortranText.hasPrefix("True")
        guard let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")"), open < close else {
            throw bad("unreadable shape in .npy header")
        }
        var dims: [Int] = []
        for part in shapeText[shapeText.index(after: open)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw bad("unreadable shape \(shapeText)") }
            dims.append(d)
        }
        guard dims.count <= Frame.maxRank else { throw bad("rank \(dims.count) > 8 cannot be a frame") }
        let (dtype, bigEndian) = try dtypeOf(descr, bad)
        guard let size = Frame.byteCount(dtype: dtype, dims: dims) else { throw bad("shape \(dims) is too large") }
        let dataStart = headerStart + headerLen
        guard bytes.count - dataStart == size else {
            throw bad("holds \(bytes.count - dataStart) data bytes, shape \(dims) of \(descr) needs \(size)")
        }
        var payload = Array(bytes[dataStart...])
        if bigEndian { swapBytes(&payload, width: dtype.size) }
        if fortran && dims.count > 1 { payload = fortranToC(payload, dims: dims, width: dtype.size) }
        return Frame(dtype: dtype, dims: dims, payload: payload)
    }

    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
    }

    private static func quoted(_ s: String) -> String? {
        guard let q = s.first, q == "'" || q == "\"" else { return nil }
        let rest = s.dropFirst()
        guard let end = rest.firstIndex(of: q) else { return nil }
        return String(rest[..<end])
    }

    private static func dtypeOf(_ descr: String, _ bad: (String) -> BSQError) throws -> (DType, Bool) {
        guard descr.count >= 2 else { throw bad("numpy dtype '\(descr)' is not supported") }
        let order = descr.first!
        let code = String(descr.dropFirst())
        let types: [String: DType] = ["f4": .f32, "f8": .f64, "u1": .u8, "i2": .i16, "i4": .i32, "u4": .u32, "i8": .i64, "f2": .f16, "u8": .u64]
        guard "<>|=".contains(order), let d = types[code] else {
            throw bad("numpy dtype '\(descr)' has no BSQT equivalent (f2 f4 f8 u1 i2 i4 u4 i8 u8)")
        }
        return (d, order == ">" && d.size > 1)
    }

    private static func swapBytes(_ b: inout [UInt8], width: Int) {
        b.withUnsafeMutableBytes { p in
            var i = 0
            while i < p.count {
                var lo = i, hi = i + width - 1
                while lo < hi { p.swapAt(lo, hi); lo += 1; hi -= 1 }
                i += width
            }
        }
    }

    /// Reorders a column-major (Fortran) array of `dims` into row-major order.
    static func fortranToC(_ src: [UInt8], dims: [Int], width: Int) -> [UInt8] {
        if dims.contains(0) { return src }             // empty: nothing to move (and the other dims may be huge)
        let n = dims.reduce(1, *)
        var fStride = [Int](repeating: 1, count: dims.count)
        for k in 1..<dims.count { fStride[k] = fStride[k - 1] * dims[k - 1] }
        var out = [UInt8](repeating: 0, count: src.count)
        var index = [Int](repeating: 0, count: dims.count)
        for c in 0..<n {
            var f = 0
            for k in 0..<dims.count { f += index[k] * fStride[k] }
            for b in 0..<width { out[c * width + b] = src[f * width + b] }
            var k = dims.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < dims[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return out
    }
}

import Foundation

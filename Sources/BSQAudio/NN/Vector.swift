/// Small vector kernels.
public enum Vector {
    /// a += b
    @inline(__always)
    public static func add(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { a[i] += b[i] }
    }
}

import Foundation

/// FastDTW (Salvador and Chan 2007), the approximate dynamic time warping
/// that `mel-cepstral-distance` aligns frames with, computed as the pure
/// Python `fastdtw.fastdtw` 0.3.4 does, with the Euclidean distance between
/// frames (`scipy.spatial.distance.euclidean`):
///
///     fastdtw(x, y): if |x| or |y| < radius + 2, exact DTW over every cell;
///                    otherwise the path of fastdtw on both halved (each pair
///                    of frames averaged, an odd last frame dropped), every
///                    cell within `radius` of it, scaled back by 2, as the
///                    window of a DTW at full resolution
///     DTW:           D[i, j] = d(x_i, y_j) + min(D[i−1, j], D[i, j−1], D[i−1, j−1]),
///                    the first of the three on a tie, as Python's `min`
///
/// The window of a row is one run of columns (the path is monotone and
/// connected, so the cells near it in a row are contiguous): `fastdtw`'s
/// scan, which keeps the first run from where the previous row's began, is
/// the interval [max(lo, start), hi] here.
public enum FastDTW {
    /// The warping path from (0, 0) to (|x| − 1, |y| − 1): pairs of frame
    /// indices, each step moving one or both by one. Frames are rows of
    /// `dimension` values; neither sequence may be empty.
    public static func path(_ x: [Double], _ y: [Double], dimension: Int, radius: Int) -> [(Int, Int)] {
        precondition(dimension > 0 && radius >= 1 && !x.isEmpty && !y.isEmpty)
        let nx = x.count / dimension, ny = y.count / dimension
        if nx < radius + 2 || ny < radius + 2 {
            return dtw(x, y, dimension: dimension, rows: Array(repeating: 0..<ny, count: nx))
        }
        let coarse = path(halved(x, dimension), halved(y, dimension), dimension: dimension, radius: radius)
        return dtw(x, y, dimension: dimension, rows: window(coarse, nx: nx, ny: ny, radius: radius))
    }

    /// Each pair of consecutive frames averaged, `(a + b) / 2`; an odd last frame dropped.
    static func halved(_ x: [Double], _ dimension: Int) -> [Double] {
        let pairs = x.count / dimension / 2
        var out = [Double](repeating: 0, count: pairs * dimension)
        for p in 0..<pairs {
            for k in 0..<dimension { out[p * dimension + k] = (x[2 * p * dimension + k] + x[(2 * p + 1) * dimension + k]) / 2 }
        }
        return out
    }

    /// The columns of each full-resolution row that `fastdtw`'s
    /// `__expand_window` lets the DTW visit.
    static func window(_ coarse: [(Int, Int)], nx: Int, ny: Int, radius: Int) -> [Range<Int>] {
        // coarse row c (offset by radius, so that rows −radius… fit) → the
        // columns of the path cells within radius rows of it, widened by radius
        let rows = (nx + 1) / 2 + 2 * radius + 1
        var lo = [Int](repeating: .max, count: rows), hi = [Int](repeating: .min, count: rows)
        for (i, j) in coarse {
            for c in (i - radius)...(i + radius) where c + radius < rows {
                lo[c + radius] = min(lo[c + radius], j - radius)
                hi[c + radius] = max(hi[c + radius], j + radius)
            }
        }
        var out: [Range<Int>] = []
        out.reserveCapacity(nx)
        var start = 0
        for i in 0..<nx {
            let c = i / 2 + radius
            let first = max(2 * lo[c], start), last = min(2 * hi[c] + 1, ny - 1)
            precondition(lo[c] != .max && first <= last, "FastDTW: an empty window row")
            out.append(first..<(last + 1))
            start = first
        }
        return out
    }

    /// DTW restricted to `rows[i]`, the columns of row i (whole rows: exact DTW).
    static func dtw(_ x: [Double], _ y: [Double], dimension: Int, rows: [Range<Int>]) -> [(Int, Int)] {
        let nx = rows.count
        // cost[i] and step[i] hold row i's window; 0: from (i−1, j), 1: (i, j−1), 2: (i−1, j−1)
        var cost: [[Double]] = [], step: [[UInt8]] = []
        cost.reserveCapacity(nx)
        step.reserveCapacity(nx)
        func at(_ i: Int, _ j: Int) -> Double {
            if i < 0 { return j < 0 ? 0 : .infinity }
            let r = rows[i]
            return j >= r.lowerBound && j < r.upperBound ? cost[i][j - r.lowerBound] : .infinity
        }
        for i in 0..<nx {
            let r = rows[i]
            var c = [Double](repeating: .infinity, count: r.count), s = [UInt8](repeating: 0, count: r.count)
            for j in r {
                var d = 0.0
                for k in 0..<dimension {
                    let e = x[i * dimension + k] - y[j * dimension + k]
                    d += e * e
                }
                d = d.squareRoot()
                let up = at(i - 1, j) + d
                let left = j - 1 >= r.lowerBound ? c[j - 1 - r.lowerBound] + d : .infinity
                let diagonal = at(i - 1, j - 1) + d
                var best = up, from: UInt8 = 0
                if left < best { best = left; from = 1 }
                if diagonal < best { best = diagonal; from = 2 }
                c[j - r.lowerBound] = best
                s[j - r.lowerBound] = from
            }
            cost.append(c)
            step.append(s)
        }
        var path: [(Int, Int)] = []
        var i = nx - 1, j = rows[nx - 1].upperBound - 1
        precondition(j == y.count / dimension - 1, "FastDTW: the window misses the last cell")
        while i >= 0 && j >= 0 {
            path.append((i, j))
            switch step[i][j - rows[i].lowerBound] {
            case 0: i -= 1
            case 1: j -= 1
            default: i -= 1; j -= 1
            }
        }
        precondition(i == -1 && j == -1, "FastDTW: the path does not start at (0, 0)")
        return path.reversed()
    }
}

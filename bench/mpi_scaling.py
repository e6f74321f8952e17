"""Projects data-parallel training of each preset to N = 1...64 nodes from
figures measured on this machine (bench/mpi.sh passes them in as JSON):

    step time  T(N) = T_compute(B/N) + T_comm(N)
    T_compute(b)    = b * t_sample                 (seconds per sample on one node, measured)
    T_comm(N)       = 2 (N-1)/N * 4P / BW + 2 (N-1) a     ring all-reduce of P float gradients
                      + c * 2 ceil(log2 N) * a           c small all-reduces per step (BatchNorm
                                                         statistics, loss sums), latency bound
    efficiency E(N) = T_compute(B/N) / T(N)       (the share of a node's step spent computing)

with the bandwidth BW and latency a of a stated network. Prints, per preset and
network, E(N) at the global batch `batch` (at least one sample per node) and the
smallest global batch B (a multiple of N) that keeps E(N) >= 80%. t_sample is
measured at batch 8 (base: 2); a node with one sample computes less efficiently,
which this model does not count.
"""
import json
import math
import sys

NETWORKS = [("1 GbE (0.125 GB/s, 50 us)", 0.125e9, 50e-6), ("10 GbE (1.25 GB/s, 25 us)", 1.25e9, 25e-6),
            ("100 Gb/s InfiniBand (12 GB/s, 2 us)", 12e9, 2e-6)]
NODES = [1, 2, 4, 8, 16, 32, 64]


def comm(n, floats, calls, bw, a):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * 4 * floats / bw + 2 * (n - 1) * a + calls * 2 * math.ceil(math.log2(n)) * a


def efficiency(n, batch, t_sample, floats, calls, bw, a):
    compute = batch / n * t_sample
    return compute / (compute + comm(n, floats, calls, bw, a))


def min_batch(n, t_sample, floats, calls, bw, a, target=0.8):
    # compute >= target/(1-target) * comm
    need = target / (1 - target) * comm(n, floats, calls, bw, a) / t_sample   # samples per node
    return n * max(1, math.ceil(need))


def main():
    m = json.loads(sys.argv[1])
    batch = m["batch"]
    for name, bw, a in NETWORKS:
        print(f"projected efficiency at global batch {batch} | smallest global batch for >= 80%, network {name}")
        print("  preset  t_sample  gradient      " + "  ".join(f"N={n:<7d}" for n in NODES))
        for p in m["presets"]:
            t, f, c = p["t_sample"], p["floats"], p["calls"]
            cells = []
            for n in NODES:
                e = efficiency(n, max(batch, n), t, f, c, bw, a)
                cells.append(f"{100 * e:3.0f}%|{min_batch(n, t, f, c, bw, a):<5d}" if n > 1 else f"{'100%':<9s}")
            print(f"  {p['preset']:<6s}  {t:6.2f} s  {4 * f / 1e6:7.1f} MB  " + "  ".join(cells))
        print()


if __name__ == "__main__":
    main()

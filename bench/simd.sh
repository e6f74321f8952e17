#!/usr/bin/env bash
# What compiling for the host gains, kernel by kernel: bench/kernels (kernel-bench)
# from the native build (make build: -target-cpu native, with FMA where the CPU
# has it) against the same code built PORTABLE (baseline x86-64, SSE2), one core each.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-bench/out/results.txt}
SWIFT=${SWIFT:-swift}
mkdir -p bench/out
[ -x "$BIN/kernel-bench" ] || { echo "bench/simd.sh: $BIN/kernel-bench is missing: make build first" >&2; exit 2; }
# the portable build of the one product, in a scratch folder of its own
"$SWIFT" build -c release --product kernel-bench --scratch-path .build/portable > bench/out/portable-build.log 2>&1 \
    || { cat bench/out/portable-build.log >&2; exit 1; }
: > bench/out/kernels-native.jsonl; : > bench/out/kernels-portable.jsonl
for _ in $(seq "${SIMD_RUNS:-3}"); do    # alternating, so that the machine's drift affects both alike
    taskset -c 0 "$BIN/kernel-bench" >> bench/out/kernels-native.jsonl
    taskset -c 0 .build/portable/release/kernel-bench >> bench/out/kernels-portable.jsonl
done
python3 - bench/out/kernels-portable.jsonl bench/out/kernels-native.jsonl <<'PY' | tee -a "$OUT"
import json, statistics, sys
def medians(path):  # kernel -> the median over the runs, in the order of the first run
    runs = {}
    for o in map(json.loads, open(path)):
        runs.setdefault(o["kernel"], []).append(o)
    return [dict(v[0], ns=statistics.median(o["ns"] for o in v)) for v in runs.values()]
portable, native = medians(sys.argv[1]), medians(sys.argv[2])
flags = open("/proc/cpuinfo").read()
cpu = ", ".join(f for f in ("avx2", "fma", "avx512f") if f" {f} " in flags or f" {f}\n" in flags)
print(f"SIMD: kernel-bench, one core, ns per unit (median of {len(open(sys.argv[2]).readlines()) // len(native)} alternating runs of medians of 7); PORTABLE = baseline x86-64 (SSE2), native = make build on this CPU ({cpu})")
print(f"  {'kernel':30} {'unit':16} {'PORTABLE':>10} {'native':>10} {'gain':>6}")
for p, n in zip(portable, native):
    assert p["kernel"] == n["kernel"]
    print(f"  {p['kernel']:30} {p['unit']:16} {p['ns']:10.3f} {n['ns']:10.3f} {p['ns'] / n['ns']:5.2f}x")
PY

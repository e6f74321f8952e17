#!/usr/bin/env bash
# The data-parallel part of make bench (BENCH=mpi): on this machine,
#   - bsq-train train tiny, batch 8: one process on 2 threads against mpirun -np 2
#     with 1 thread each (steps/s, and the seconds per step spent in MPI: comm_s);
#   - the all-reduce of the tiny, small and base gradients on loopback, -np 2;
#   - seconds per sample of each preset's training step on one node (2 threads);
# then the projection of bench/mpi_scaling.py to N = 1...64 nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-bench/out/results.txt}
STEPS=${MPI_STEPS:-6}
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
mkdir -p bench/out
say() { echo "$*" | tee -a "$OUT"; }
[ -s bench/data/train.mel ] || "$BIN/mel" -q -o bench/data/train.mel bench/data/sr16000
median_of() {  # log field -> median over the train lines after the first
    python3 -c "
import json, statistics, sys
v = [o[sys.argv[2]] for o in map(json.loads, open(sys.argv[1])) if o.get('kind') == 'train' and o['step'] > 1]
print(statistics.median(v))" "$1" "$2"
}
run=bench/out/mpi-run
train() {  # launcher and bsq-train options; $steps steps (default $STEPS)
    rm -rf "$run"
    "$@" -q --steps "${steps:-$STEPS}" --set train.log_every=1 --set train.checkpoint_every=1000000 -o "$run" bench/data/train.mel
}
train "$BIN/bsq-train" train --preset tiny --batch 8 --threads 2
one=$(median_of "$run/log.jsonl" steps_per_s)
train "${MPIRUN[@]}" -np 2 "$BIN/bsq-train" train --preset tiny --batch 8 --threads 1
two=$(median_of "$run/log.jsonl" steps_per_s); comm=$(median_of "$run/log.jsonl" comm_s)
say "mpi: tiny, batch 8, median of $((STEPS - 1)) steps: 1 process x 2 threads $(printf %.3f "$one") steps/s;" \
    "mpirun -np 2 x 1 thread $(printf %.3f "$two") steps/s ($(python3 -c "print(f'{$two / $one:.2f}')")x), of which $(printf %.3f "$comm") s per step in MPI"

mpicc -O2 bench/mpi_allreduce.c -o bench/out/mpi_allreduce
floats() { python3 -c "
import json, struct, sys
b = open(sys.argv[1], 'rb').read(8); n = struct.unpack('<Q', b)[0]
h = json.loads(open(sys.argv[1], 'rb').read(8 + n)[8:])
print(sum(__import__('math').prod(v['shape']) for k, v in h.items() if k != '__metadata__'))" "$1"; }
sizes=()
for p in tiny small base; do
    [ -f "bench/data/init-$p.safetensors" ] || "$BIN/bsq-train" init --preset "$p" --seed 1 -o "bench/data/init-$p.safetensors"
    sizes+=("$(floats "bench/data/init-$p.safetensors")")
done
i=0
while read -r n sec gbs; do
    p=$(echo tiny small base | cut -d' ' -f$((i + 1)))
    say "mpi: all-reduce of the $p gradient ($n floats, $(python3 -c "print(f'{4 * $n / 1e6:.1f}')") MB), -np 2 on loopback: $(python3 -c "print(f'{1000 * $sec:.1f}')") ms ($gbs GB/s)"
    i=$((i + 1))
done < <("${MPIRUN[@]}" -np 2 bench/out/mpi_allreduce 5 "${sizes[@]}")

json="{\"batch\": 8, \"presets\": ["
sep=""
i=0
for p in tiny small base; do
    b=$([ "$p" = base ] && echo 2 || echo 8)
    steps=$([ "$p" = base ] && echo 3 || echo "$STEPS") train "$BIN/bsq-train" train --preset "$p" --batch "$b" --threads 2
    sps=$(median_of "$run/log.jsonl" steps_per_s)
    ts=$(python3 -c "print(1 / ($sps * $b))")
    layers=$(python3 -c "
import json, struct, sys
b = open(sys.argv[1], 'rb').read(8); n = struct.unpack('<Q', b)[0]
h = json.loads(open(sys.argv[1], 'rb').read(8 + n)[8:])
print(sum(1 for k in h if k.endswith('batch_norm.running_mean')))" "bench/data/init-$p.safetensors")
    calls=$((2 * layers + 6))
    say "mpi: $p training step, batch $b, 2 threads: $(printf %.2f "$ts") s per sample; $calls small all-reduces per step"
    json+="$sep{\"preset\": \"$p\", \"t_sample\": $ts, \"floats\": ${sizes[$i]}, \"calls\": $calls}"
    sep=", "; i=$((i + 1))
done
json+="]}"
rm -rf "$run"
python3 bench/mpi_scaling.py "$json" | tee -a "$OUT"

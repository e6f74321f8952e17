#!/usr/bin/env bash
# The kit before and after a change, side by side in one run, on the same data:
#   bash bench/compare.sh OLD_BIN NEW_BIN       two folders of built tools
#   make bench-compare OLD=<commit>             builds <commit> in .build-old (a git worktree) and compares
#   TRAIN_SET=model.group_size=18               passes one --set to every training run
# Model inference (base preset, 10.24 s chunks, whole processes as users run them) and
# training steps (tiny and small presets, batch 8), each measured alternately for the
# two builds, RUNS times (median, and the spread min..max so that noise can be judged);
# peak resident memory by /usr/bin/time. Results in bench/out/compare.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2
RUNS=${RUNS:-5}
THREADS=${THREADS:-$(nproc)}
mkdir -p bench/out bench/data
OUT=bench/out/compare.txt
: > "$OUT"
say() { echo "$*" | tee -a "$OUT"; }
now() { date +%s.%N; }
stats() { python3 -c 'import sys, statistics as s; v = [float(x) for x in sys.argv[1:]]; print(f"{s.median(v):.3f} ({min(v):.3f}..{max(v):.3f})")' "$@"; }
med() { python3 -c 'import sys, statistics as s; print(s.median(float(x) for x in sys.argv[1:]))' "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "$1" "$2"; }

[ -f bench/data/base.safetensors ] || "$NEW/bsq-train" init --preset base --seed 1 -o bench/data/base.safetensors
python3 - <<'PY'
import sys; sys.path.insert(0, "Tests/Fixtures"); import bsqt, numpy as np
x = (np.random.default_rng(0).random((1024 * 8, 128)) * -80).astype(np.float32)
open("bench/out/chunks8.mel", "wb").write(bsqt.encode(x, {"kind": "mel", "key": "b8"}))
open("bench/out/chunks1.mel", "wb").write(bsqt.encode(x[:1024], {"kind": "mel", "key": "b1"}))
PY
[ -s bench/data/train.mel ] || { bash bench/make_bench_audio.sh; "$NEW/mel" -q -o bench/data/train.mel bench/data/sr16000; }
M=bench/data/base.safetensors

want() { [[ ",${PARTS:-model,train}," == *",$1,"* ]]; }   # PARTS=train bash bench/compare.sh ... runs one part
say "compare: OLD=$OLD NEW=$NEW, $THREADS threads, $RUNS runs each (median (min..max))"
# --- inference: the one-chunk pipe as whole processes, and 8 chunks at --batch 8
if want model; then
declare -A pipe rss_e rss_d ms8
for side in OLD NEW; do pipe[$side]=""; rss_e[$side]=""; rss_d[$side]=""; ms8[$side]=""; done
for _ in $(seq "$RUNS"); do
    for side in OLD NEW; do
        bin=${!side}
        s=$(now)
        "$bin/bsq-encode" -m "$M" --threads "$THREADS" < bench/out/chunks1.mel | "$bin/bsq-decode" -m "$M" --threads "$THREADS" > /dev/null
        e=$(now); pipe[$side]+=" $(python3 -c "print($e - $s)")"
        /usr/bin/time -f %M -o bench/out/rss "$bin/bsq-encode" --timing -m "$M" --threads "$THREADS" --batch 8 bench/out/chunks8.mel \
            > bench/out/c8.codes 2> bench/out/enc.err
        rss_e[$side]+=" $(tail -1 bench/out/rss)"
        te=$(grep -o '[0-9.]* ms per chunk' bench/out/enc.err | tail -1 | cut -d' ' -f1)
        /usr/bin/time -f %M -o bench/out/rss "$bin/bsq-decode" --timing -m "$M" --threads "$THREADS" --batch 8 bench/out/c8.codes \
            > /dev/null 2> bench/out/dec.err
        rss_d[$side]+=" $(tail -1 bench/out/rss)"
        td=$(grep -o '[0-9.]* ms per chunk' bench/out/dec.err | tail -1 | cut -d' ' -f1)
        ms8[$side]+=" $(python3 -c "print($te + $td)")"
    done
done
say "base one-chunk pipe (bsq-encode | bsq-decode, loading included), s:"
say "  old $(stats ${pipe[OLD]})   new $(stats ${pipe[NEW]})   new/old $(ratio "$(med ${pipe[NEW]})" "$(med ${pipe[OLD]})")"
say "base 8 chunks at --batch 8, encode + decode ms per chunk (--timing):"
say "  old $(stats ${ms8[OLD]})   new $(stats ${ms8[NEW]})   new/old $(ratio "$(med ${ms8[NEW]})" "$(med ${ms8[OLD]})")"
say "base --batch 8 peak RSS, MB: encode old $(( $(med ${rss_e[OLD]} | cut -d. -f1) / 1024 )) new $(( $(med ${rss_e[NEW]} | cut -d. -f1) / 1024 )); decode old $(( $(med ${rss_d[OLD]} | cut -d. -f1) / 1024 )) new $(( $(med ${rss_d[NEW]} | cut -d. -f1) / 1024 ))"

fi

# --- training: median steps/s over the logged steps after the first, peak RSS
train() {  # bin preset steps -> "steps_per_s peak_mb"
    local run=bench/out/cmp-run
    rm -rf "$run"
    /usr/bin/time -f %M -o bench/out/rss "$1/bsq-train" train -q --preset "$2" --batch 8 --steps "$3" --threads "$THREADS" \
        ${TRAIN_SET:+--set "$TRAIN_SET"} --set train.log_every=1 --set train.checkpoint_every=1000000 -o "$run" bench/data/train.mel
    python3 -c "
import json, statistics, sys
r = [o['steps_per_s'] for o in map(json.loads, open(sys.argv[1])) if o.get('kind') == 'train' and o['step'] > 1]
print(f'{statistics.median(r):.4f} {int(open(sys.argv[2]).read().split()[-1]) / 1024:.0f}')" "$run/log.jsonl" bench/out/rss
    rm -rf "$run"
}
want train && for preset in ${TRAIN_PRESETS:-tiny small}; do
    steps=${TRAIN_STEPS:-6}; [ "$preset" = small ] && steps=${SMALL_STEPS:-4}
    declare -A sps=() mb=()
    for _ in $(seq "${TRAIN_RUNS:-2}"); do
        for side in OLD NEW; do
            read -r s m < <(train "${!side}" "$preset" "$steps")
            sps[$side]+=" $s"; mb[$side]+=" $m"
        done
    done
    say "train $preset, batch 8${TRAIN_SET:+, $TRAIN_SET}, steps/s:"
    say "  old $(stats ${sps[OLD]})   new $(stats ${sps[NEW]})   new/old $(ratio "$(med ${sps[NEW]})" "$(med ${sps[OLD]})")"
    say "  peak RSS, MB: old $(med ${mb[OLD]}) new $(med ${mb[NEW]})"
done
say "compare: results in $OUT"

#!/usr/bin/env bash
# make bench: the kit against the reference tools, measured in the same run.
#   frames: bsq-tensor cat big.bsqt | cat  vs  cat big.bsqt | cat  (same bytes, same pipe)
#   mel:    decode + resample + log-mel on ~11 minutes of speech at 22.05 and 16 kHz,
#           against librosa and torchaudio on one core each; mel on one and on two cores
# Each timing is the median of several runs, taken alternately so that the
# machine's drift affects both sides alike. Results also go to bench/out/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
RUNS=${RUNS:-5}
mkdir -p bench/out
OUT=bench/out/results.txt
: > "$OUT"
say() { echo "$*" | tee -a "$OUT"; }

bash bench/make_bench_audio.sh

now() { date +%s.%N; }
median() { python3 -c 'import sys, statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
verdict() { python3 -c "import sys; print('ok' if float(sys.argv[1]) >= float(sys.argv[2]) else 'BELOW TARGET')" "$1" "$2"; }

# --- frames -------------------------------------------------------------------
BIG=bench/data/big.bsqt
bytes=$(stat -c %s "$BIG")
cat "$BIG" > /dev/null   # page cache
plain=(); tool=()
for _ in $(seq "$RUNS"); do
    s=$(now); cat "$BIG" | cat > /dev/null; e=$(now); plain+=("$(python3 -c "print($e - $s)")")
    s=$(now); "$BIN/bsq-tensor" cat "$BIG" | cat > /dev/null; e=$(now); tool+=("$(python3 -c "print($e - $s)")")
done
tp=$(median "${plain[@]}"); tt=$(median "${tool[@]}")
gp=$(python3 -c "print(f'{$bytes / $tp / 1e9:.2f}')"); gt=$(python3 -c "print(f'{$bytes / $tt / 1e9:.2f}')")
slow=$(ratio "$tt" "$tp")
say "frames: $((bytes / 1000000)) MB, median of $RUNS"
say "  cat big.bsqt | cat             $gp GB/s"
say "  bsq-tensor cat big.bsqt | cat  $gt GB/s   ($(verdict "$gt" 1.0): target >= 1 GB/s)"
say "  bsq-tensor / cat time ratio    $slow   ($(python3 -c "print('ok' if $slow <= 1.5 else 'ABOVE TARGET')"): target <= 1.5)"

# --- mel ----------------------------------------------------------------------
json() { python3 -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
for rate in 22050 16000; do
    dir=bench/data/sr$rate
    lib=$(python3 bench/mel_reference.py --impl librosa --cpu 0 "$dir")
    ta=$(python3 bench/mel_reference.py --impl torchaudio --cpu 0 "$dir")
    secs=$(json "$lib" audio_seconds)
    "$BIN/mel" -q -j 1 "$dir" > /dev/null 2>&1   # warm the page cache and the plans
    one=(); two=()
    for _ in $(seq "$RUNS"); do
        s=$(now); taskset -c 0 "$BIN/mel" -q -j 1 "$dir" > /dev/null 2>&1; e=$(now); one+=("$(python3 -c "print($e - $s)")")
        s=$(now); "$BIN/mel" -q -j 2 "$dir" > /dev/null 2>&1; e=$(now); two+=("$(python3 -c "print($e - $s)")")
    done
    x1=$(python3 -c "print(f'{$secs / $(median "${one[@]}"):.0f}')")
    x2=$(python3 -c "print(f'{$secs / $(median "${two[@]}"):.0f}')")
    xl=$(python3 -c "print(f'{float($(json "$lib" x_realtime)):.0f}')")
    xt=$(python3 -c "print(f'{float($(json "$ta" x_realtime)):.0f}')")
    say "mel at $rate Hz: $(python3 -c "print(f'{$secs / 60:.1f}')") min of audio in $(ls "$dir" | wc -l) files (x realtime)"
    say "  librosa 1 core     $xl"
    say "  torchaudio 1 core  $xt"
    say "  mel 1 core         $x1   vs librosa $(ratio "$x1" "$xl")x ($(verdict "$(ratio "$x1" "$xl")" 1.5)), vs torchaudio $(ratio "$x1" "$xt")x ($(verdict "$(ratio "$x1" "$xt")" 1.5)): target >= 1.5"
    say "  mel 2 cores        $x2   scaling $(ratio "$x2" "$x1")x ($(verdict "$(ratio "$x2" "$x1")" 1.8)): target >= 1.8"
done
say "bench: results in $OUT"

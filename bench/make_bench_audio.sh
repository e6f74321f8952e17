#!/usr/bin/env bash
# Benchmark inputs, made deterministically into bench/data/ (gitignored):
#   bench/data/sr22050/utt_NNN.wav   60 espeak-ng utterances of 10-12 s (22.05 kHz, 16-bit mono),
#                                    about 11 minutes in all
#   bench/data/sr16000/utt_NNN.wav   the same resampled by sox to 16 kHz
#   bench/data/big.bsqt              1000 mel-like frames of f32 [2048, 128] (~1 GB)
# Whatever is already there is kept; files appear only when complete.
# Needs espeak-ng, sox (make deps) and python3 with numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=bench/data
N=${BENCH_FILES:-60}
mkdir -p "$DATA/sr22050" "$DATA/sr16000"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

SENTENCES=(
  "The quick brown fox jumps over the lazy dog near the quiet river bank."
  "She sells sea shells by the sea shore, and the shells she sells are surely sea shells."
  "Peter Piper picked a peck of pickled peppers from the garden behind the old farmhouse."
  "How much wood would a woodchuck chuck if a woodchuck could chuck wood all afternoon?"
  "Seven hundred and forty two thousand, nine hundred and sixty one people were counted."
  "Please call Stella and ask her to bring these things with her from the store."
  "Is it really going to rain on Thursday afternoon, or will the sun come out again?"
  "Zero, one, two, three, four, five, six, seven, eight, nine, and then ten."
  "A stitch in time saves nine, but only if you thread the needle first."
  "Wow! That was absolutely extraordinary, wasn't it? I could hardly believe my eyes."
  "Fresh fish, crisp chips, and a splash of vinegar make a fine dinner by the harbour."
  "The ship sailed through the choppy, shimmering water at dawn and reached port by noon."
  "Thirty three thin thistles thrust through thick thorns along the winding path."
  "Mel spectrograms map frequencies onto a perceptual scale that follows human hearing."
  "Hello? Is anybody there? I can hear you breathing on the other end of the line."
  "The committee will meet again next Monday to discuss the budget for the coming year."
  "Bright yellow leaves drifted slowly down onto the wet pavement outside the library."
  "Our train leaves platform nine at a quarter past six, so we must not be late."
  "Scientists measured the temperature of the lake every hour for three whole weeks."
  "Would you like tea or coffee with your breakfast this morning, or perhaps some juice?"
  "The orchestra tuned their instruments while the audience slowly found their seats."
  "Every child in the village learned to swim before the age of seven."
  "He whispered the answer so quietly that nobody in the back row could hear it."
  "Turn left at the second traffic light, then follow the signs to the museum."
)
VOICES=(en-us+m3 en+f3 en-gb-x-rp+m1 en-us+f2 en+klatt2 en+m7 en-gb+f4 en-us+croak en-gb-scotland+m2 en+klatt4 en-029+f5 en+m1)
NS=${#SENTENCES[@]}
NV=${#VOICES[@]}

made=0
for ((i = 0; i < N; i++)); do
  name=$(printf 'utt_%03d.wav' "$i")
  w22="$DATA/sr22050/$name"
  w16="$DATA/sr16000/$name"
  if [ ! -s "$w22" ]; then
    voice=${VOICES[$((i % NV))]}
    speed=$((140 + (i * 7) % 50))
    pitch=$((30 + (i * 13) % 40))
    text=""
    k=0
    # add sentences until the utterance lasts at least 10 s; cut at 12 s below
    while :; do
      text="$text ${SENTENCES[$(((i * 5 + k) % NS))]}"
      k=$((k + 1))
      espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$tmp/u.wav" "$text"
      dur=$(soxi -D "$tmp/u.wav")
      awk -v d="$dur" 'BEGIN { exit !(d >= 10) }' && break
    done
    # -3 dB leaves headroom for the resampler; -R: repeatable, -D: no dither, -V1: errors only
    sox -V1 -R -D "$tmp/u.wav" "$tmp/c.wav" gain -3 trim 0 12
    mv "$tmp/c.wav" "$w22"
    made=$((made + 1))
  fi
  if [ ! -s "$w16" ]; then
    sox -V1 -R -D "$w22" -r 16000 "$tmp/r.wav"
    mv "$tmp/r.wav" "$w16"
  fi
done
if [ "$made" -gt 0 ]; then echo "make_bench_audio: made $made utterances" >&2; fi
for d in sr22050 sr16000; do
  printf 'make_bench_audio: %s: %s files, %s\n' "$d" "$(ls "$DATA/$d" | wc -l)" \
    "$(soxi -T -d "$DATA/$d"/*.wav 2>/dev/null | tail -n 1)" >&2
done

if [ ! -s "$DATA/big.bsqt" ]; then
  echo "make_bench_audio: writing $DATA/big.bsqt (~1 GB)" >&2
  python3 - "$tmp/big.bsqt" <<'EOF'
import sys
sys.path.insert(0, "Tests/Fixtures")
import numpy as np
import bsqt

MEL = {"sample_rate": 16000, "n_fft": 1024, "win_length": 1024, "hop_length": 160, "n_mels": 128,
       "fmin": 0.0, "fmax": 8000.0, "mel_scale": "slaney", "norm": "slaney", "power": 2.0,
       "center": True, "pad_mode": "constant", "db": {"ref": "max", "amin": 1e-10, "top_db": 80.0}}
with open(sys.argv[1], "wb") as f:
    for i in range(1000):
        rng = np.random.default_rng(i)
        # mel-like: a spectral envelope that drifts over time plus noise, in [-80, 0] dB
        env = np.cumsum(rng.standard_normal((2048, 1), dtype=np.float32), axis=0) * 0.5
        tilt = np.linspace(0.0, -30.0, 128, dtype=np.float32)
        x = -30.0 + tilt + env + 6.0 * rng.standard_normal((2048, 128), dtype=np.float32)
        x = np.clip(x - max(0.0, float(x.max())), -80.0, 0.0).astype(np.float32)
        meta = {"kind": "mel", "key": f"big/{i:04d}", "axes": ["time", "mel"], "mel": MEL}
        f.write(bsqt.encode(x, meta))
EOF
  mv "$tmp/big.bsqt" "$DATA/big.bsqt"
fi
ls -l "$DATA/big.bsqt" | awk '{ printf "make_bench_audio: big.bsqt %.2f GB\n", $5 / 1e9 }' >&2

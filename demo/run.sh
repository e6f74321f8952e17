#!/usr/bin/env bash
# make demo: the kit's main job on a synthesized speech clip, printing each step.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
OUT=${OUT:-demo-out}
export PATH="$PWD/$BIN:$PATH"
mkdir -p "$OUT"

step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

step "speech: two sentences from espeak-ng (22.05 kHz) and a 44.1 kHz stereo copy" \
     "espeak-ng -w $OUT/hello.wav ...; sox $OUT/hello.wav -r 44100 -c 2 $OUT/hello-44k.flac"
espeak-ng -v en-us -w "$OUT/hello.wav" "Speech in, compact codes out. This clip becomes a log mel spectrogram."
espeak-ng -v en+f3 -w "$OUT/second.wav" "Every tool reads and writes the same framed tensors."
sox -R "$OUT/hello.wav" -r 44100 -c 2 "$OUT/hello-44k.flac"
soxi -d "$OUT/hello.wav" "$OUT/second.wav" | paste -sd' ' | sed 's/^/durations: /'

step "log-mel spectrograms, librosa-exact (16 kHz, n_fft 1024, hop 160, 128 mels, dB in [-80, 0])" \
     "mel $OUT/hello.wav $OUT/second.wav $OUT/hello-44k.flac > $OUT/clips.mel"
mel -q "$OUT/hello.wav" "$OUT/second.wav" "$OUT/hello-44k.flac" > "$OUT/clips.mel"

step "what the stream holds" "bsq-tensor info $OUT/clips.mel"
bsq-tensor info "$OUT/clips.mel"

step "a pipe from stdin, compressed, fixed to 256 frames" \
     "sox $OUT/second.wav -t wav - | mel --frames 256 --zstd - | bsq-tensor info"
sox -R "$OUT/second.wav" -t wav - | mel -q --frames 256 --zstd - | bsq-tensor info

step "one frame out to numpy" "bsq-tensor cat --key hello $OUT/clips.mel | bsq-tensor to-npy -o $OUT/npy"
bsq-tensor cat --key hello "$OUT/clips.mel" | bsq-tensor to-npy -o "$OUT/npy"
ls -l "$OUT/npy"
step "SpecAugment: two time and two frequency masks per clip, the same for every run with seed 7" \
     "specaug --seed 7 $OUT/clips.mel > $OUT/clips-aug.mel; spec-metrics $OUT/clips.mel $OUT/clips-aug.mel"
specaug --seed 7 "$OUT/clips.mel" > "$OUT/clips-aug.mel"
bsq-tensor info --json "$OUT/clips-aug.mel" | sed 's/.*"key":"\([^"]*\)".*"specaug":\({.*}\)}}$/\1: \2/'
spec-metrics "$OUT/clips.mel" "$OUT/clips-aug.mel"

step "tokens: a freshly initialised tiny BSQ-ViT (untrained, so its reconstructions are poor; the bit rate is the point)" \
     "bsq-train init --preset tiny --seed 1 -o $OUT/tiny.safetensors; bsq-encode -m $OUT/tiny.safetensors $OUT/clips.mel > $OUT/clips.codes"
bsq-train init --preset tiny --seed 1 -o "$OUT/tiny.safetensors"
bsq-encode -m "$OUT/tiny.safetensors" --timing "$OUT/clips.mel" > "$OUT/clips.codes"
bsq-tensor info "$OUT/clips.codes"

step "and back to mel, compared with the original" \
     "bsq-decode -m $OUT/tiny.safetensors $OUT/clips.codes | spec-metrics --codes $OUT/clips.codes $OUT/clips.mel -"
bsq-decode -m "$OUT/tiny.safetensors" "$OUT/clips.codes" | spec-metrics --codes "$OUT/clips.codes" "$OUT/clips.mel" -
printf '\ndemo: done; outputs are in %s/\n' "$OUT"

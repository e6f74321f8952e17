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

step "the main job with the kit's trained model (tiny, 18 bits per 16x16 patch) on 10.1 s of a voice it never heard" \
     "mel $OUT/speech.wav | bsq-encode | tee $OUT/speech.codes | bsq-decode > $OUT/speech.rec.mel"
espeak-ng -v en-us+f4 -s 185 -w "$OUT/speech.wav" "Speech goes in and compact codes come out. Each patch of sixteen frames by sixteen mel bands becomes eighteen bits, and a small transformer turns the codes back into sound."
mel -q "$OUT/speech.wav" > "$OUT/speech.mel"
mel -q "$OUT/speech.wav" | bsq-encode --timing | tee "$OUT/speech.codes" | bsq-decode > "$OUT/speech.rec.mel"
bsq-tensor info "$OUT/speech.codes"

step "bit rate and quality of the reconstruction" \
     "spec-metrics --codes $OUT/speech.codes $OUT/speech.mel $OUT/speech.rec.mel"
spec-metrics --codes "$OUT/speech.codes" "$OUT/speech.mel" "$OUT/speech.rec.mel"

step "the original and the reconstructed mel spectrograms, one above the other" \
     "bsq-plot mel $OUT/speech.mel $OUT/speech.rec.mel --label original --label 'from 18-bit codes' -o $OUT/speech.png"
bsq-plot mel "$OUT/speech.mel" "$OUT/speech.rec.mel" --title "speech.wav: mel -> bsq-encode -> bsq-decode" \
    --label "original mel" --label "decoded from $(bsq-tensor info --json "$OUT/speech.codes" | sed 's/.*"dims":\[\([0-9]*\),\([0-9]*\)\].*/\1x\2/') tokens of 18 bits" \
    -o "$OUT/speech.png"
ls -l "$OUT/speech.png"

step "back to sound, beside the PNG, and how intelligible it stays (STOI): mel2wav takes Griffin-Lim for the analysed mel and the kit's neural vocoder for the decoded one (--vocoder auto); the decoded one through Griffin-Lim too, to compare" \
     "mel2wav -o $OUT/speech.mel.wav < $OUT/speech.mel; mel2wav -o $OUT/speech.rec.wav < $OUT/speech.rec.mel; wav-metrics ..."
mel2wav -q -o "$OUT/speech.mel.wav" "$OUT/speech.mel"
mel2wav -q -o "$OUT/speech.rec.wav" "$OUT/speech.rec.mel"
mel2wav -q --vocoder griffin-lim -o "$OUT/speech.rec.gl.wav" "$OUT/speech.rec.mel"
echo "original -> mel -> mel2wav (Griffin-Lim):"
wav-metrics "$OUT/speech.wav" "$OUT/speech.mel.wav"
echo "original -> mel -> codes -> mel -> mel2wav (the neural vocoder):"
wav-metrics "$OUT/speech.wav" "$OUT/speech.rec.wav"
echo "original -> mel -> codes -> mel -> mel2wav --vocoder griffin-lim:"
wav-metrics "$OUT/speech.wav" "$OUT/speech.rec.gl.wav"
printf '\ndemo: done; outputs are in %s/ (speech.png, speech.rec.wav)\n' "$OUT"

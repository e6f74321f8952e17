#!/usr/bin/env bash
# make experiment: speech corpus -> mel -> bsq-train -> bsq-encode/bsq-decode -> report.
# About 80 min on 2 cores (corpus 3-4 min, mel 20 s, training ~75 min at 0.36 steps/s, evaluation 1 min).
#   EXP=experiment/out CONFIG=experiment/tiny18.json bash experiment/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
EXP=${EXP:-experiment/out}
CONFIG=${CONFIG:-experiment/tiny18.json}
CORPUS=${CORPUS:-experiment/corpus}
export PATH="$PWD/$BIN:$PATH"
mkdir -p "$EXP"

step() { printf '\n== %s\n' "$1"; }

step "corpus: synthetic voices and recorded speech from Debian packages ($CORPUS)"
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	missing=$(for p in $(experiment/make_corpus.sh --packages); do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
	if [ -n "$missing" ]; then
		SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
	experiment/make_corpus.sh "$CORPUS" -j 2
fi
echo "train: $(ls "$CORPUS/train" | wc -l) files; held out: $(ls "$CORPUS/heldout" | wc -l) files"

step "mel spectrograms of both parts"
[ -f "$EXP/run/model.safetensors" ] || [ -f "$EXP/train.mel" ] || mel -q -j 2 -o "$EXP/train.mel" "$CORPUS/train"
[ -f "$EXP/heldout.mel" ] || mel -q -j 2 -o "$EXP/heldout.mel" "$CORPUS/heldout"
bsq-tensor info "$EXP/heldout.mel" | tail -1

step "training ($CONFIG), validated on the held-out voices, curves in $EXP/curves.png"
if [ -f "$EXP/run/model.safetensors" ]; then
	echo "already trained: $EXP/run/model.safetensors"
elif [ -d "$EXP/run" ]; then
	bsq-train train --resume "$EXP/run" --val "$EXP/heldout.mel" --plot "$EXP/curves.png" "$EXP/train.mel"
else
	bsq-train train --config "$CONFIG" --val "$EXP/heldout.mel" --plot "$EXP/curves.png" -o "$EXP/run" "$EXP/train.mel"
fi
bsq-plot curves --smooth 0.6 "$EXP/run/log.jsonl" -o "$EXP/curves.png"

step "the shipped form: EMA weights as F16"
bsq-train export --f16 --name bsq-audio-tiny18 "$EXP/run/model.safetensors" -o "$EXP/bsq-audio-tiny18.safetensors"
ls -l "$EXP/bsq-audio-tiny18.safetensors"

step "held-out speech through the codes: quality, bit rate, code usage and entropy, speed"
M="$EXP/bsq-audio-tiny18.safetensors"
bsq-encode -m "$M" --timing -o "$EXP/heldout.codes" "$EXP/heldout.mel"
bsq-decode -m "$M" --timing -o "$EXP/heldout.rec.mel" "$EXP/heldout.codes"
spec-metrics --codes "$EXP/heldout.codes" "$EXP/heldout.mel" "$EXP/heldout.rec.mel" | grep -v "^heldout_" | tee "$EXP/report.txt"
spec-metrics --json --codes "$EXP/heldout.codes" "$EXP/heldout.mel" "$EXP/heldout.rec.mel" | tail -1 > "$EXP/report.json"
printf '\nexperiment: done; %s/ holds the run, curves.png, report.txt and the exported model\n' "$EXP"

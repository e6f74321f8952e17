#!/usr/bin/env bash
# make experiment: speech corpus -> mel -> bsq-train -> bsq-encode/bsq-decode -> report.
# About 2 h 30 min on 2 cores (corpus 3-4 min, mel 20 s, training ~55 min at 0.64 steps/s,
# fine-tuning with whole-code entropies ~90 min at 0.35 steps/s, evaluation 1 min).
#   EXP=experiment/out CONFIG=experiment/tiny18.json FINETUNE=experiment/tiny18-ft.json bash experiment/run.sh
# FINETUNE= (empty) stops after the first stage.
# GAN=experiment/tiny18-gan.json adds a third stage: the fine-tuned model fine-tuned again with the
# PatchGAN discriminator (300 steps, about 28 min at 0.18 steps/s), then the sound of both models on the
# held-out speech through mel2wav: STOI and ESTOI (wav-metrics) and PESQ-WB (the pesq package).
# VOCODER=1 adds the neural vocoder (experiment/vocoder.sh): trained on the corpus, fine-tuned on the
# shipped tokenizer's reconstructions, measured against Griffin-Lim (about 1 h 20 min more).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
EXP=${EXP:-experiment/out}
CONFIG=${CONFIG:-experiment/tiny18.json}
FINETUNE=${FINETUNE-experiment/tiny18-ft.json}
GAN=${GAN-}
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
[ -f "$EXP/train.mel" ] || mel -q -j 2 -o "$EXP/train.mel" "$CORPUS/train"
[ -f "$EXP/heldout.mel" ] || mel -q -j 2 -o "$EXP/heldout.mel" "$CORPUS/heldout"
bsq-tensor info "$EXP/heldout.mel" | tail -1

# train_stage RUN CURVES ARGS...: train into $EXP/RUN with ARGS (a new run), or resume it, or
# say it is done; validated on the held-out voices, curves redrawn into $EXP/CURVES
train_stage() {
	local run="$EXP/$1" curves="$EXP/$2"
	shift 2
	if [ -f "$run/model.safetensors" ]; then
		echo "already trained: $run/model.safetensors"
	elif [ -d "$run" ]; then
		bsq-train train --resume "$run" --val "$EXP/heldout.mel" --plot "$curves" "$EXP/train.mel"
	else
		bsq-train train "$@" --val "$EXP/heldout.mel" --plot "$curves" -o "$run" "$EXP/train.mel"
	fi
	bsq-plot curves --smooth 0.6 "$run/log.jsonl" -o "$curves"
}

step "training ($CONFIG), validated on the held-out voices, curves in $EXP/curves.png"
train_stage run curves.png --config "$CONFIG"
FINAL="$EXP/run"

if [ -n "$FINETUNE" ]; then
	step "fine-tuning ($FINETUNE): the whole 18-bit code as one entropy group, curves in $EXP/ft-curves.png"
	train_stage ft ft-curves.png --init "$EXP/run/model.safetensors" --config "$FINETUNE"
	FINAL="$EXP/ft"
fi

BEFORE="$FINAL"
if [ -n "$GAN" ]; then
	step "adversarial fine-tuning ($GAN): the PatchGAN discriminator, curves in $EXP/gan-curves.png"
	train_stage gan gan-curves.png --init "$FINAL/model.safetensors" --config "$GAN"
	FINAL="$EXP/gan"
fi

step "the shipped form: EMA weights as F16"
bsq-train export --f16 --name bsq-audio-tiny18 "$FINAL/model.safetensors" -o "$EXP/bsq-audio-tiny18.safetensors"
ls -l "$EXP/bsq-audio-tiny18.safetensors"

step "held-out speech through the codes: quality, bit rate, code usage and entropy, speed"
M="$EXP/bsq-audio-tiny18.safetensors"
bsq-encode -m "$M" --timing -o "$EXP/heldout.codes" "$EXP/heldout.mel"
bsq-decode -m "$M" --timing -o "$EXP/heldout.rec.mel" "$EXP/heldout.codes"
spec-metrics --codes "$EXP/heldout.codes" "$EXP/heldout.mel" "$EXP/heldout.rec.mel" | grep -v "^heldout_" | tee "$EXP/report.txt"
spec-metrics --json --codes "$EXP/heldout.codes" "$EXP/heldout.mel" "$EXP/heldout.rec.mel" | tail -1 > "$EXP/report.json"
echo "code entropy by what the tokens cover (the last chunk of each file is padded with db_min):" | tee -a "$EXP/report.txt"
python3 experiment/code_entropy.py "$EXP/heldout.codes" | tee -a "$EXP/report.txt"
if [ -n "$GAN" ]; then
	step "the sound from the codes, before and after the discriminator (held-out speech, mel2wav)"
	python3 -c "import pesq" 2>/dev/null || pip install -q pesq
	W="$EXP/wave"
	mkdir -p "$W/ref"
	for f in "$CORPUS"/heldout/*; do
		n=$(basename "${f%.*}")
		[ -f "$W/ref/$n.wav" ] || sox -V1 "$f" -r 16000 -c 1 -b 16 "$W/ref/$n.wav"
	done
	mel -q -o "$W/ref.mel" "$W/ref"
	bsq-train export --f16 "$BEFORE/model.safetensors" -o "$W/before.safetensors"
	mel2wav -q --vocoder griffin-lim -o "$W/exact/" "$W/ref.mel"
	for side in before gan; do
		m="$W/before.safetensors"; [ "$side" = gan ] && m="$EXP/bsq-audio-tiny18.safetensors"
		bsq-encode -m "$m" "$W/ref.mel" | bsq-decode -m "$m" -o "$W/$side.mel"
		mel2wav -q --vocoder griffin-lim -o "$W/$side/" "$W/$side.mel"
	done
	{
		printf 'sound on the held-out speech (%s files), through mel2wav (Griffin-Lim, 32 iterations)\n' "$(ls "$W/ref" | wc -l)"
		printf '%-7s %s\n' "" "$(wav-metrics "$W/ref" "$W/exact" 2>/dev/null | head -1)"
		for side in exact before gan; do
			printf '%-7s %s; %s\n' "$side" "$(wav-metrics "$W/ref" "$W/$side" 2>/dev/null | tail -1)" "$(python3 experiment/wave_report.py "$W/ref" "$W/$side")"
		done
	} | tee -a "$EXP/report.txt"
	# a recorded voice (the Debian packages' human speech) when there is one, not a synthesizer's
	first=$( (ls "$W/ref" | grep -E 'klettres|ktuberling|asterisk|alsa' || ls "$W/ref") | head -1); first=${first%.wav}
	bsq-tensor cat --key "$first" "$W/ref.mel" > "$W/clip.mel"
	bsq-tensor cat --key "$first" "$W/before.mel" > "$W/clip.before.mel"
	bsq-tensor cat --key "$first" "$W/gan.mel" > "$W/clip.gan.mel"
	bsq-plot mel "$W/clip.mel" "$W/clip.before.mel" "$W/clip.gan.mel" --label original --label "codes, before" \
		--label "codes, with the discriminator" --title "$first: held-out speech" -o "$EXP/gan-before-after.png"
fi
if [ -n "${VOCODER-}" ]; then
	BIN="$BIN" EXP="$EXP" CORPUS="$CORPUS" bash experiment/vocoder.sh
fi
printf '\nexperiment: done; %s/ holds the run, curves.png, report.txt and the exported model\n' "$EXP"

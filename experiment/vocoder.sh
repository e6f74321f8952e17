#!/usr/bin/env bash
# The neural vocoder stage of make experiment (VOCODER=1): train the tiny Vocos on the corpus'
# training audio (experiment/vocos-tiny.json), fine-tune it on the shipped tokenizer's
# reconstructions (--codec, experiment/vocos-tiny-ft.json), export it as F16, and measure the
# sound on the held-out speech: from the exact mel and from the codes, through Griffin-Lim,
# the vocoder and the fine-tuned vocoder (STOI and ESTOI with wav-metrics, PESQ-WB with
# experiment/wave_report.py). About 60 + 20 min of training on 2 cores.
#   EXP=experiment/out bash experiment/vocoder.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
EXP=${EXP:-experiment/out}
CORPUS=${CORPUS:-experiment/corpus}
TOKENIZER=${TOKENIZER:-Sources/BSQAudio/Resources/bsq-audio-tiny18.safetensors}
export PATH="$PWD/$BIN:$PATH"
V="$EXP/vocoder"
mkdir -p "$V"
step() { printf '\n== %s\n' "$1"; }

# train RUN ARGS...: a new run, or the resumed one, or nothing when it is done
train() {
	local run="$V/$1"
	shift
	if [ -f "$run/model.safetensors" ]; then echo "already trained: $run/model.safetensors"
	elif [ -d "$run" ]; then bsq-train vocoder -q --resume "$run" "$CORPUS/train"
	else bsq-train vocoder -q "$@" --val "$CORPUS/heldout" --plot "$V/$(basename "$run")-curves.png" -o "$run" "$CORPUS/train"
	fi
}

step "vocoder: tiny Vocos on the training audio (experiment/vocos-tiny.json), curves in $V/run-curves.png"
train run --preset tiny --config experiment/vocos-tiny.json
step "vocoder: fine-tuned on $TOKENIZER's reconstructions (experiment/vocos-tiny-ft.json)"
train ft --init "$V/run/model.safetensors" --codec "$TOKENIZER" --config experiment/vocos-tiny-ft.json
bsq-train export --f16 --name vocos-tiny "$V/run/model.safetensors" -o "$V/vocos-tiny-plain.safetensors"
bsq-train export --f16 --name vocos-tiny "$V/ft/model.safetensors" -o "$V/bsq-audio-vocos-tiny.safetensors"
ls -l "$V"/*.safetensors

step "the sound on the held-out speech: exact mel and codes, through Griffin-Lim and the vocoders"
python3 -c "import pesq" 2>/dev/null || pip install -q pesq
W="$V/wave"
mkdir -p "$W/ref"
for f in "$CORPUS"/heldout/*; do
	n=$(basename "${f%.*}")
	[ -f "$W/ref/$n.wav" ] || sox -V1 "$f" -r 16000 -c 1 -b 16 "$W/ref/$n.wav"
done
mel -q -o "$W/exact.mel" "$W/ref"
bsq-encode -m "$TOKENIZER" "$W/exact.mel" | bsq-decode -m "$TOKENIZER" -o "$W/codes.mel"
declare -A VOC=([gl]=griffin-lim [vocos]="$V/vocos-tiny-plain.safetensors" [vocos-ft]="$V/bsq-audio-vocos-tiny.safetensors")
# the recorded human voices (Debian packages' speech), and everything
human='klettres|ktuberling|asterisk|alsa'
{
	printf 'held-out speech: %s files (%s recorded human voices); PESQ-WB over the files it scores\n' \
		"$(ls "$W/ref" | wc -l)" "$(ls "$W/ref" | grep -cE "$human")"
	printf '%-7s %-9s %8s %8s %8s   %8s %8s %8s\n' input vocoder stoi estoi pesq-wb h-stoi h-estoi h-pesq
	for input in exact codes; do
		for v in gl vocos vocos-ft; do
			out="$W/$input-$v"
			[ -d "$out" ] || mel2wav -q --vocoder "${VOC[$v]}" -o "$out/" "$W/$input.mel"
			mkdir -p "$W/h-ref" "$out-h"
			for f in $(ls "$W/ref" | grep -E "$human"); do ln -sf "$(realpath "$W/ref/$f")" "$W/h-ref/$f"; ln -sf "$(realpath "$out/$f")" "$out-h/$f"; done
			all=$(wav-metrics "$W/ref" "$out" 2>/dev/null | tail -1); hum=$(wav-metrics "$W/h-ref" "$out-h" 2>/dev/null | tail -1)
			pa=$(python3 experiment/wave_report.py "$W/ref" "$out" --json | python3 -c "import json,sys; print(f'{json.load(sys.stdin)[\"pesq_wb\"]:.3f}')")
			ph=$(python3 experiment/wave_report.py "$W/h-ref" "$out-h" --json | python3 -c "import json,sys; print(f'{json.load(sys.stdin)[\"pesq_wb\"]:.3f}')")
			printf '%-7s %-9s %8s %8s %8s   %8s %8s %8s\n' "$input" "$v" "$(echo "$all" | awk '{print $4}')" "$(echo "$all" | awk '{print $5}')" "$pa" \
				"$(echo "$hum" | awk '{print $4}')" "$(echo "$hum" | awk '{print $5}')" "$ph"
		done
	done
} | tee "$V/report.txt"

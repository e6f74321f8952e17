#!/usr/bin/env bash
# Build the bsq-audio training/held-out speech corpus from Debian packages.
#   experiment/make_corpus.sh [OUTDIR] [--hours H] [--heldout-minutes M] [--no-human] [--seed S] [-j N]
#   experiment/make_corpus.sh --packages     print the Debian packages it needs (installs nothing)
# OUTDIR defaults to experiment/corpus; writes OUTDIR/train/*.wav, OUTDIR/heldout/*.wav
# (16 kHz mono 16-bit) and OUTDIR/MANIFEST.tsv.  Same seed + same package versions
# give the same bytes.  See experiment/README.md.
set -euo pipefail

CORPUS_DEBS="sox espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts \
fortunes fortunes-de fortunes-es fortunes-it fortunes-br fortunes-pl fortunes-ru fortunes-cs \
alsa-utils asterisk-core-sounds-en-wav ktuberling-data klettres-data"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = "--packages" ]; then
	echo $CORPUS_DEBS
	exit 0
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
	sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
	exec python3 "$here/make_corpus.py" --help
fi

missing=""
for p in $CORPUS_DEBS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "make_corpus: missing Debian packages:$missing" >&2
	echo "make_corpus: install them with: apt-get install --no-install-recommends \$($0 --packages)" >&2
	exit 1
fi

# default output directory: experiment/corpus, wherever the script is called from
out="$here/corpus"
args=()
while [ $# -gt 0 ]; do
	case "$1" in
		--hours|--heldout-minutes|--seed|-j|--jobs) args+=("$1" "$2"); shift 2 ;;
		-j*) args+=("-j" "${1#-j}"); shift ;;
		-*) args+=("$1"); shift ;;
		*) out="$1"; shift ;;
	esac
done
# LC_ALL=C: same sorting and number formatting everywhere
export LC_ALL=C.UTF-8
exec python3 "$here/make_corpus.py" "$out" "${args[@]}"

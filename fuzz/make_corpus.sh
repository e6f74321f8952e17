#!/usr/bin/env bash
# (Re)makes the committed seed corpora in fuzz/corpus/TARGET/: small fixtures
# of the test suite, and inputs written by the library itself (fuzz-seeds).
# Each file a few KB, the whole under 1 MB.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../Tests/Fixtures
corpus=$here/corpus
"${SWIFT:-swift}" build -c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address --product fuzz-seeds 2>&1 \
    | grep -v 'warning: Cannot export local symbol' >&2
rm -rf "$corpus"
ASAN_OPTIONS=detect_leaks=0 "$here/.build/release/fuzz-seeds" "$corpus"

copy() {  # copy TARGET FILE…
    local t=$1; shift
    mkdir -p "$corpus/$t"
    for f in "$@"; do cp "$f" "$corpus/$t/fixture-$(basename "$f")"; done
}
copy fuzz-frames "$fixtures"/frames/python_stream.bsqt "$fixtures"/metrics/codes.bsqt "$fixtures"/metrics/codes64.bsqt \
    "$fixtures"/model/expected_micro18_codes.bsqt "$fixtures"/model/expected_micro18_trace.bsqt "$fixtures"/wave/vocoder_short_no_center.mel
copy fuzz-npy "$fixtures"/frames/npy/*.npy "$fixtures"/mel/short16k_300.npy "$fixtures"/mel/short44k_stereo_1000.npy
copy fuzz-safetensors "$fixtures"/model/micro18_f16.safetensors "$fixtures"/model/micro36_noconv.safetensors "$fixtures"/model/micro9.safetensors
copy fuzz-audio "$fixtures"/mel/short16k_300.wav "$fixtures"/mel/short16k_800.wav "$fixtures"/mel/short44k_stereo_1000.wav \
    "$fixtures"/mel/mp3_22k_stereo.mp3
python3 - "$fixtures" "$corpus/fuzz-metadata-config" <<'PY'
import json, struct, sys
fixtures, out = sys.argv[1], sys.argv[2]
for name in ["micro9", "micro36_noconv"]:
    b = open(f"{fixtures}/model/{name}.safetensors", "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    open(f"{out}/fixture-{name}-config.json", "w").write(json.loads(b[8:8 + n])["__metadata__"]["config"])
PY
du -sh "$corpus"; for d in "$corpus"/*; do echo "$(ls "$d" | wc -l) $(du -sh "$d")"; done

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
python3 - "$corpus/fuzz-token-text" <<'PY'
import json, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
toks = [(i * 7919) % (1 << 18) for i in range(24)]
tsv = "a\t" + " ".join(map(str, toks[:16])) + "\nb " + " ".join(map(str, toks[8:24])) + "\n"
meta = {"key": "k", "source": "k.wav", "mel": {"sample_rate": 16000, "hop_length": 160, "n_fft": 1024, "n_mels": 128},
        "frames": 40, "covered_time_patches": 3, "bits": 18, "model": {"name": "m", "sha256": "0" * 64},
        "shape": [3, 8], "tokens": toks}
seeds = {"tsv": b"\x00" + tsv.encode(), "tsv-bits9-fp4": b"\x06" + b"x\t1 2 3 4 5 6 7 8\r\n\n",
         "jsonl": b"\x01" + (json.dumps(meta, separators=(",", ":")) + "\n").encode(),
         "jsonl-frames": b"\x09" + (json.dumps(dict(meta, frames=48), separators=(",", ":")) + "\n").encode(),
         "tsv-bits36": b"\x12" + b"w\t68719476735 0 1 2 3 4 5 6\n"}
for name, data in seeds.items():
    open(os.path.join(out, f"seed-{name}.txt"), "wb").write(data)
PY
du -sh "$corpus"; for d in "$corpus"/*; do echo "$(ls "$d" | wc -l) $(du -sh "$d")"; done

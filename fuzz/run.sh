#!/usr/bin/env bash
# Builds the fuzz targets (once) and runs one of them over its committed seed
# corpus, new inputs going to a scratch folder, never to the committed one.
#
#   fuzz/run.sh TARGET [SECONDS | -runs=N] [more libFuzzer options…]
#   fuzz/run.sh all SECONDS          each target in turn (make fuzz, make fuzz-smoke)
#
# TARGET: fuzz-frames fuzz-frames-zstd fuzz-metadata-config fuzz-safetensors fuzz-npy fuzz-audio fuzz-token-text
# Default: 60 seconds. Exits non-zero on a crash, leak, timeout or out-of-memory;
# the reproducer is written to fuzz/.build/artifacts/TARGET/ (a confirmed one
# is kept in fuzz/crashes/TARGET/ until it is fixed, then moved to fuzz/corpus/TARGET/).
# Environment: FUZZ_BUILD=0 skips the build; FUZZ_JOBS=N runs N processes
# (libFuzzer -fork=N); BSQ_FUZZ_STRICT=1 also traps on round-trip mismatches;
# SWIFT=path chooses the toolchain (default: swift).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz-frames fuzz-frames-zstd fuzz-metadata-config fuzz-safetensors fuzz-npy fuzz-audio fuzz-token-text"
target=${1:?"usage: fuzz/run.sh TARGET|all [SECONDS|-runs=N] [libFuzzer options]"}
shift
budget=${1:-60}
[ $# -gt 0 ] && shift

if [ "${FUZZ_BUILD:-1}" != 0 ]; then
    mkdir -p "$here/.build"
    if ! "${SWIFT:-swift}" build -c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address >"$here/.build/build.log" 2>&1; then
        grep -v 'warning: Cannot export local symbol' "$here/.build/build.log" >&2
        echo "fuzz: build failed" >&2
        exit 1
    fi
fi

if [ "$target" = all ]; then
    status=0
    for t in $targets; do FUZZ_BUILD=0 "$0" "$t" "$budget" "$@" || status=1; done
    exit $status
fi

case $target in
    fuzz-frames|fuzz-frames-zstd) max_len=16384 ;;
    fuzz-metadata-config|fuzz-npy|fuzz-token-text) max_len=8192 ;;
    fuzz-safetensors) max_len=131072 ;;
    fuzz-audio) max_len=16384 ;;
    *) echo "fuzz: unknown target $target (expected one of: $targets)" >&2; exit 2 ;;
esac
case $budget in
    -runs=*) limit=$budget ;;
    *[!0-9]*|'') echo "fuzz: SECONDS must be a number, or -runs=N (got $budget)" >&2; exit 2 ;;
    *) limit=-max_total_time=$budget ;;
esac

scratch=$here/.build/corpus/$target
artifacts=$here/.build/artifacts/$target
mkdir -p "$scratch" "$artifacts"
fork=()
[ -n "${FUZZ_JOBS:-}" ] && fork=(-fork="$FUZZ_JOBS")
echo "fuzz: $target ($budget) over fuzz/corpus/$target" >&2
export BSQ_CACHE=off   # no digest cache entries for the inputs
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
export SWIFT_BACKTRACE=enable=no   # let libFuzzer report a Swift trap (and write its reproducer)
exec nice -n 10 "$here/.build/release/$target" "$limit" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/" "${fork[@]}" "$@" \
    "$scratch" "$here/corpus/$target"

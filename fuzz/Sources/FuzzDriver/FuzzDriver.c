// SwiftPM links an executable target MODULE with `--defsym main=MODULE_main`
// (so that tests can link it), and a fuzz target compiled with
// -parse-as-library defines no such symbol: each MODULE_main here hands
// control to libFuzzer's driver with the target's LLVMFuzzerTestOneInput.
// A new fuzz target needs its line here.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *, size_t));

#define ENTRY(module) \
    int module##_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

ENTRY(fuzz_frames)
ENTRY(fuzz_frames_zstd)
ENTRY(fuzz_metadata_config)
ENTRY(fuzz_safetensors)
ENTRY(fuzz_npy)
ENTRY(fuzz_audio)
ENTRY(fuzz_token_text)

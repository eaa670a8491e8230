// Fuzz target: the EFI_LOAD_OPTION decoder (boards/efi_boot.h), which reads Boot#### variables
// from the node's NVRAM (outside input). It must never throw, crash or read out of bounds;
// whatever it reports valid with an HD() node must encode back to a well-formed option that
// decodes to the same node and file.
#include <cstddef>
#include <cstdint>
#include <span>

#include "boards/efi_boot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ironstone::boards;
  LoadOption o = decode_load_option(std::span(data, size));
  if (o.valid && o.hd) {
    auto again = decode_load_option(encode_load_option(o.attributes, o.description, *o.hd, o.file));
    if (!again.valid || !again.hd || !(*again.hd == *o.hd) || again.file != o.file) __builtin_trap();
  }
  return 0;
}

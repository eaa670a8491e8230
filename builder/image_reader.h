// Reading a disk image to publish: raw (regular file, block device or pipe),
// zstd-compressed (.img.zst) or xz-compressed (.img.xz), detected by magic bytes,
// from a path or "-" for standard input. Sparse raw files are read with
// SEEK_DATA/SEEK_HOLE: a block entirely inside a hole is reported without reading.
// Raw regular files and block devices also allow random access from several threads
// (read_at), so that reading is spread over the threads that consume the blocks.
// Truncated or corrupt compressed input is an error naming the file and the
// compressed offset; nothing is guessed.
// Thread safety: one reader per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "manifest/hash.h"

namespace ironstone::builder {

enum class ImageFormat { kRaw, kZstd, kXz };
const char* to_string(ImageFormat f);

class ImageReader {
 public:
  virtual ~ImageReader() = default;
  // Fills `buf` completely unless the image ends first; returns the bytes produced
  // (0 at the end). Sets *hole when those bytes are known zeros that were not read.
  virtual std::size_t read(std::span<std::uint8_t> buf, bool* hole) = 0;
  virtual ImageFormat format() const = 0;
  // True when read_at() may be used: raw regular files and block devices, whose size_hint()
  // is then the image size. False for pipes and compressed images (read in order only).
  virtual bool random_access() const { return false; }
  // Reads min(buf.size(), image size - offset) bytes at `offset` like read() (same *hole
  // meaning), independently of read()'s position; with hole == nullptr holes are not looked for,
  // just read as zeros. Thread-safe: several threads may call it at once. Only when
  // random_access(); throws std::logic_error otherwise.
  virtual std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buf, bool* hole) const;
  // True when [offset, offset + length) is known to read as zeros without reading it (a hole
  // of a sparse file; one SEEK_DATA). Thread-safe. Always false unless random_access().
  virtual bool hole_at(std::uint64_t /*offset*/, std::uint64_t /*length*/) const { return false; }
  // The image size when known up front (raw regular files and block devices).
  virtual std::optional<std::uint64_t> size_hint() const { return std::nullopt; }
  // Bytes of input consumed so far (compressed bytes for compressed input): for progress.
  virtual std::uint64_t input_position() const = 0;
  virtual std::optional<std::uint64_t> input_size() const { return std::nullopt; }
  // BLAKE2b-256 of the compressed input, after the end was reached; nullopt for raw input.
  virtual std::optional<Hash256> source_hash() const { return std::nullopt; }
};

// Opens `path` ("-" = standard input). Throws builder::Errc::kInput naming the path.
std::unique_ptr<ImageReader> open_image(const std::string& path);

}  // namespace ironstone::builder

// What `publish` checks in its input before it signs anything (docs/release-format.md,
// "What publish refuses"):
//   - it is a disk image: an MBR or GPT partition table with at least one partition, every
//     partition inside the image (a text file, a program or a truncated image is refused with
//     Errc::kNotDiskImage, the store untouched) — unless PublishOptions::raw says the bytes are
//     meant as they are;
//   - it is sealed (seal_check.h): reported, or an error with PublishOptions::require_sealed.
// A raw image file or block device is checked where it is, before chunking. Compressed
// (.img.xz / .img.zst) and piped input can only be checked once it has been read: its
// decompressed bytes are copied, as they stream through the chunker, into a sparse temporary
// file under $TMPDIR (needs the image's data size in space, not its full size) that finish()
// checks and removes. With `raw` and without `require_sealed` no copy is made and sealing
// is noted as not checked.
// Thread safety: one PublishInput per publish; reader() is read by the chunker's reading thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "builder/image_reader.h"
#include "builder/seal_check.h"

namespace ironstone::builder {

// Throws Errc::kNotDiskImage naming `what` unless the file or device at `path` holds an MBR or
// GPT table with at least one partition, all of them inside it.
void check_disk_image(const std::filesystem::path& path, const std::string& what);

class PublishInput {
 public:
  // `image` is publish's argument ("-" = standard input); `source` its opened reader, which
  // must outlive this object. A raw file is checked now (throws kNotDiskImage / kUnsealed).
  PublishInput(const std::string& image, ImageReader& source, bool raw, bool require_sealed);
  ~PublishInput();
  PublishInput(const PublishInput&) = delete;
  PublishInput& operator=(const PublishInput&) = delete;

  // What the chunker reads: the source itself, or the source copied into the temporary file.
  ImageReader& reader();
  // REQUIRES: the chunker has read reader() to its end. Checks a streamed image's copy
  // (throws kNotDiskImage / kUnsealed) and removes it; returns the sealing report.
  SealReport finish();

 private:
  class Tee;
  void require_sealing(const SealReport& seal) const;
  std::string image_;
  std::string what_;  // the image as messages name it: "gold.img.xz (zstd)", "standard input (xz)"
  ImageReader& source_;
  bool raw_;
  bool require_sealed_;
  SealReport seal_;
  std::unique_ptr<Tee> tee_;
};

}  // namespace ironstone::builder

#include "builder/publish_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "builder/errc.h"
#include "disk/partition_table.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRawAdvice = " (publish a whole-disk image, or pass --raw to publish these bytes as they are)";

std::uint64_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  if (S_ISBLK(st.st_mode)) {
    const off_t end = ::lseek(fd, 0, SEEK_END);
    return end > 0 ? static_cast<std::uint64_t>(end) : 0;
  }
  return static_cast<std::uint64_t>(st.st_size);
}

std::string describe_input(const std::string& image, ImageFormat format) {
  const std::string name = image == "-" ? "standard input" : image;
  return format == ImageFormat::kRaw ? name : name + " (" + to_string(format) + ")";
}

}  // namespace

void check_disk_image(const fs::path& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw error(Errc::kInput, what + ": cannot open: " + std::strerror(errno));
  disk::PartitionTable table;
  try {
    table = disk::read_partition_table(fd, file_size(fd), what);
  } catch (const Error& e) {
    ::close(fd);
    throw error(Errc::kNotDiskImage, std::string("not a disk image: ") + e.what() + kRawAdvice);
  }
  ::close(fd);
  if (table.kind == disk::TableKind::kNone)
    throw error(Errc::kNotDiskImage, what + ": not a disk image: no MBR or GPT partition table" + kRawAdvice);
  if (table.partitions.empty())
    throw error(Errc::kNotDiskImage,
                what + ": not a disk image: the " + disk::to_string(table.kind) + " table has no partitions" + kRawAdvice);
}

// Forwards the source's bytes to the chunker and writes them, holes skipped, into a sparse
// temporary file, so that the whole image can be checked after the stream has ended.
class PublishInput::Tee final : public ImageReader {
 public:
  Tee(ImageReader& source, const std::string& what) : source_(source), what_(what) {
    std::string tmpl = (fs::temp_directory_path() / "ironstone-publish-XXXXXX.img").string();
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    fd_ = ::mkstemps(name.data(), 4);
    if (fd_ < 0)
      throw error(Errc::kStore, tmpl + ": cannot create the temporary copy of " + what + " for its checks: " +
                                    std::strerror(errno) + " (set TMPDIR to a writable directory)");
    path_ = name.data();
  }
  ~Tee() override { remove(); }

  std::size_t read(std::span<std::uint8_t> buf, bool* hole) override {
    bool h = false;
    const std::size_t n = source_.read(buf, &h);
    if (hole) *hole = h;
    if (!h) copy(buf.first(n));
    position_ += n;
    return n;
  }
  ImageFormat format() const override { return source_.format(); }
  std::uint64_t input_position() const override { return source_.input_position(); }
  std::optional<std::uint64_t> input_size() const override { return source_.input_size(); }
  std::optional<Hash256> source_hash() const override { return source_.source_hash(); }

  // The copy, complete (its trailing holes included).
  const fs::path& finish() {
    if (::ftruncate(fd_, static_cast<off_t>(position_)) != 0) fail("cannot set its size");
    return path_;
  }
  void remove() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
    path_.clear();
  }

 private:
  void copy(std::span<const std::uint8_t> data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t w = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(position_ + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail("cannot write at offset " + std::to_string(position_ + done));
      done += static_cast<std::size_t>(w);
    }
  }
  [[noreturn]] void fail(const std::string& what) {
    throw error(Errc::kStore, path_.string() + " (the temporary copy of " + what_ + " for its checks): " + what +
                                  ": " + std::strerror(errno) + " (set TMPDIR to a filesystem with space for the image's data)");
  }

  ImageReader& source_;
  std::string what_;
  fs::path path_;
  int fd_ = -1;
  std::uint64_t position_ = 0;
};

PublishInput::PublishInput(const std::string& image, ImageReader& source, bool raw, bool require_sealed)
    : image_(image), what_(describe_input(image, source.format())), source_(source), raw_(raw),
      require_sealed_(require_sealed) {
  const bool in_place = image != "-" && source.format() == ImageFormat::kRaw;
  if (in_place) {
    if (!raw_) check_disk_image(image_, image_);
    seal_ = check_sealed(image_);
  } else if (!raw_ || require_sealed_) {
    tee_ = std::make_unique<Tee>(source_, what_);
  } else {
    seal_.note = what_ + ": sealing not checked (--raw input that is compressed or piped is not copied for it)";
  }
  if (in_place) require_sealing(seal_);
}

PublishInput::~PublishInput() = default;

ImageReader& PublishInput::reader() { return tee_ ? static_cast<ImageReader&>(*tee_) : source_; }

SealReport PublishInput::finish() {
  if (tee_) {
    const fs::path copy = tee_->finish();  // a copy: tee_->remove() clears the original
    if (!raw_) check_disk_image(copy, what_);
    seal_ = check_sealed(copy);
    tee_->remove();
    // The report names the input, not the temporary copy it was read from.
    for (auto at = seal_.note.find(copy.string()); at != std::string::npos; at = seal_.note.find(copy.string(), at))
      seal_.note.replace(at, copy.string().size(), what_);
    require_sealing(seal_);
  }
  return seal_;
}

void PublishInput::require_sealing(const SealReport& seal) const {
  if (!require_sealed_) return;
  if (!seal.checked) throw error(Errc::kUnsealed, "--require-sealed: " + seal.note);
  if (seal.sealed()) return;
  std::string what = "--require-sealed: " + what_ + ": the gold image is not sealed, " + seal.partition + " has:";
  for (const auto& f : seal.findings) what += "\n  " + f;
  throw error(Errc::kUnsealed, what);
}

}  // namespace ironstone::builder

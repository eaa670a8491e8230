#include "builder/image_reader.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <lzma.h>
#include <stdexcept>
#include <vector>
#include <zstd.h>

#include "builder/errc.h"

namespace ironstone::builder {

const char* to_string(ImageFormat f) {
  switch (f) {
    case ImageFormat::kRaw: return "raw";
    case ImageFormat::kZstd: return "zstd";
    case ImageFormat::kXz: return "xz";
  }
  return "?";
}

std::size_t ImageReader::read_at(std::uint64_t, std::span<std::uint8_t>, bool*) const {
  throw std::logic_error("ImageReader::read_at: this input is read in order only");
}

namespace {

Error input_error(const std::string& path, const std::string& problem) {
  return error(Errc::kInput, path + ": " + problem);
}

// A file descriptor read sequentially, with a few bytes pushed back after sniffing.
class Fd {
 public:
  Fd(int fd, std::string path, bool owned) : fd_(fd), path_(std::move(path)), owned_(owned) {}
  ~Fd() {
    if (owned_) ::close(fd_);
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  std::uint64_t position() const { return position_; }

  std::size_t read(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n && pushback_pos_ < pushback_.size()) out[done++] = pushback_[pushback_pos_++];
    while (done < n) {
      ssize_t r = ::read(fd_, out + done, n - done);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw input_error(path_, "read @ " + hex_offset(position_ + done) + ": " + std::strerror(errno));
      if (r == 0) break;
      done += static_cast<std::size_t>(r);
    }
    position_ += done;
    return done;
  }
  void unread(const std::uint8_t* data, std::size_t n) {
    pushback_.assign(data, data + n);
    pushback_pos_ = 0;
    position_ -= n;
  }

 private:
  int fd_;
  std::string path_;
  bool owned_;
  std::uint64_t position_ = 0;
  std::vector<std::uint8_t> pushback_;
  std::size_t pushback_pos_ = 0;
};

// Raw image from a seekable file or device: pread + SEEK_DATA for holes.
class RawSeekableReader : public ImageReader {
 public:
  RawSeekableReader(std::unique_ptr<Fd> fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
  std::size_t read(std::span<std::uint8_t> buf, bool* hole) override {
    std::size_t n = read_at(offset_, buf, hole);
    offset_ += n;
    return n;
  }
  bool random_access() const override { return true; }
  bool hole_at(std::uint64_t offset, std::uint64_t length) const override {
    // SEEK_DATA moves the shared file offset too, which pread does not use: safe across threads.
    off_t data = ::lseek(fd_->fd(), static_cast<off_t>(offset), SEEK_DATA);
    return (data < 0 && errno == ENXIO) || (data >= 0 && static_cast<std::uint64_t>(data) >= offset + length);
  }
  std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buf, bool* hole) const override {
    if (hole) *hole = false;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size_ - std::min(offset, size_)));
    if (n == 0) return 0;
    if (hole && hole_at(offset, n)) {
      *hole = true;
      return n;
    }
    std::size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_->fd(), buf.data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw input_error(fd_->path(), "read @ " + hex_offset(offset + done) + ": " + std::strerror(errno));
      if (r == 0)
        throw input_error(fd_->path(), "truncated: ends at " + hex_offset(offset + done) + ", expected " +
                                           std::to_string(size_) + " bytes");
      done += static_cast<std::size_t>(r);
    }
    return n;
  }
  ImageFormat format() const override { return ImageFormat::kRaw; }
  std::optional<std::uint64_t> size_hint() const override { return size_; }
  std::uint64_t input_position() const override { return offset_; }
  std::optional<std::uint64_t> input_size() const override { return size_; }

 private:
  std::unique_ptr<Fd> fd_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;
};

// Raw image from a pipe.
class RawStreamReader : public ImageReader {
 public:
  explicit RawStreamReader(std::unique_ptr<Fd> fd) : fd_(std::move(fd)) {}
  std::size_t read(std::span<std::uint8_t> buf, bool* hole) override {
    *hole = false;
    return fd_->read(buf.data(), buf.size());
  }
  ImageFormat format() const override { return ImageFormat::kRaw; }
  std::uint64_t input_position() const override { return fd_->position(); }

 private:
  std::unique_ptr<Fd> fd_;
};

// Base for compressed streams: hashes the compressed input as it is consumed.
class CompressedReader : public ImageReader {
 public:
  CompressedReader(std::unique_ptr<Fd> fd, std::optional<std::uint64_t> input_size)
      : fd_(std::move(fd)), input_size_(input_size), in_(1 << 20) {}
  std::uint64_t input_position() const override { return fd_->position(); }
  std::optional<std::uint64_t> input_size() const override { return input_size_; }
  std::optional<Hash256> source_hash() const override { return source_hash_; }

 protected:
  // Refills the input buffer; returns false at end of input.
  bool refill() {
    in_len_ = fd_->read(in_.data(), in_.size());
    in_pos_ = 0;
    hasher_.update(std::span(in_.data(), in_len_));
    if (in_len_ == 0 && !source_hash_) source_hash_ = hasher_.final();
    return in_len_ > 0;
  }
  Error corrupt(const std::string& problem) const {
    return input_error(fd_->path(), std::string(to_string(format())) + " stream " + problem + " at input offset " +
                                        hex_offset(fd_->position()));
  }

  std::unique_ptr<Fd> fd_;
  std::optional<std::uint64_t> input_size_;
  std::vector<std::uint8_t> in_;
  std::size_t in_len_ = 0, in_pos_ = 0;
  Blake2b256 hasher_;
  std::optional<Hash256> source_hash_;
};

class ZstdReader : public CompressedReader {
 public:
  using CompressedReader::CompressedReader;
  ~ZstdReader() override { ZSTD_freeDStream(ds_); }
  ImageFormat format() const override { return ImageFormat::kZstd; }
  std::size_t read(std::span<std::uint8_t> buf, bool* hole) override {
    *hole = false;
    ZSTD_outBuffer out{buf.data(), buf.size(), 0};
    while (out.pos < out.size) {
      if (in_pos_ == in_len_ && !eof_) eof_ = !refill();
      if (eof_ && in_pos_ == in_len_) {
        if (pending_) throw corrupt("truncated");
        break;
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      std::size_t r = ZSTD_decompressStream(ds_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(r)) throw corrupt(std::string("corrupt (") + ZSTD_getErrorName(r) + ")");
      pending_ = r != 0;
    }
    return out.pos;
  }

 private:
  ZSTD_DStream* ds_ = ZSTD_createDStream();
  bool eof_ = false;
  bool pending_ = false;  // inside a frame
};

class XzReader : public CompressedReader {
 public:
  XzReader(std::unique_ptr<Fd> fd, std::optional<std::uint64_t> input_size)
      : CompressedReader(std::move(fd), input_size) {
    if (lzma_stream_decoder(&strm_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
      throw input_error(fd_->path(), "cannot initialise the xz decoder");
  }
  ~XzReader() override { lzma_end(&strm_); }
  ImageFormat format() const override { return ImageFormat::kXz; }
  std::size_t read(std::span<std::uint8_t> buf, bool* hole) override {
    *hole = false;
    if (done_) return 0;
    strm_.next_out = buf.data();
    strm_.avail_out = buf.size();
    while (strm_.avail_out > 0) {
      if (strm_.avail_in == 0 && !eof_) {
        eof_ = !refill();
        strm_.next_in = in_.data();
        strm_.avail_in = in_len_;
      }
      lzma_ret r = lzma_code(&strm_, eof_ ? LZMA_FINISH : LZMA_RUN);
      if (r == LZMA_STREAM_END) {
        done_ = true;
        break;
      }
      if (r == LZMA_BUF_ERROR && eof_) throw corrupt("truncated");
      if (r != LZMA_OK) throw corrupt("corrupt (lzma error " + std::to_string(static_cast<int>(r)) + ")");
    }
    return buf.size() - strm_.avail_out;
  }

 private:
  lzma_stream strm_ = LZMA_STREAM_INIT;
  bool eof_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ImageReader> open_image(const std::string& path) {
  std::unique_ptr<Fd> fd;
  if (path == "-") {
    fd = std::make_unique<Fd>(STDIN_FILENO, "<stdin>", false);
  } else {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) throw input_error(path, std::string("cannot open: ") + std::strerror(errno));
    fd = std::make_unique<Fd>(raw, path, true);
  }
  struct stat st {};
  if (::fstat(fd->fd(), &st) != 0) throw input_error(path, std::string("stat: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw input_error(path, "is a directory");
  std::optional<std::uint64_t> size;
  if (S_ISREG(st.st_mode)) size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    std::uint64_t bytes = 0;
    if (::ioctl(fd->fd(), BLKGETSIZE64, &bytes) == 0) size = bytes;
  }
  std::uint8_t magic[6] = {};
  std::size_t n = fd->read(magic, sizeof magic);
  static constexpr std::uint8_t kZstd[4] = {0x28, 0xB5, 0x2F, 0xFD};
  static constexpr std::uint8_t kXz[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
  fd->unread(magic, n);
  if (n >= 4 && std::memcmp(magic, kZstd, 4) == 0) return std::make_unique<ZstdReader>(std::move(fd), size);
  if (n >= 6 && std::memcmp(magic, kXz, 6) == 0) return std::make_unique<XzReader>(std::move(fd), size);
  if (size && path != "-") return std::make_unique<RawSeekableReader>(std::move(fd), *size);
  return std::make_unique<RawStreamReader>(std::move(fd));
}

}  // namespace ironstone::builder

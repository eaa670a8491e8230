#include "flasher/chunk_writer.h"

#include <algorithm>

#include "flasher/read_back.h"
#include "manifest/chunk_codec.h"

namespace ironstone::flasher {

class ChunkDecoderHolder {
 public:
  manifest::ChunkDecoder decoder;
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> readback;
};

namespace {
// Reads back what was just written at `off` and compares it with the verified bytes.
void read_back_chunk(Target& target, std::size_t chunk, std::uint64_t off, std::span<const std::uint8_t> expected,
                     std::vector<std::uint8_t>& buffer, CpuStage& cpu) {
  CpuTimer timer(cpu);
  try {
    read_back(target, off, expected, buffer);
  } catch (const Error& e) {
    throw e.with_context("flash: chunk " + std::to_string(chunk) + " @ " + hex_offset(off));
  }
}
}  // namespace

ChunkWriter::ChunkWriter(Target& target, const manifest::Manifest& m,
                         std::vector<std::vector<std::uint64_t>> pending, unsigned threads)
    : target_(target), m_(m), pending_(std::move(pending)), accepted_(m.chunks.size(), false) {
  pending_.resize(m.chunks.size());
  for (const auto& p : pending_) wanted_count_ += !p.empty();
  threads = std::max(1u, threads);
  queue_limit_ = 2 * threads;
  for (unsigned t = 0; t < threads; ++t) workers_.emplace_back([this] { worker(); });
}

ChunkWriter::~ChunkWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_item_.notify_all();
  cv_space_.notify_all();
  for (auto& t : workers_) t.join();
}

void ChunkWriter::begin() {
  for (const auto& p : pending_) {
    if (std::find(p.begin(), p.end(), 0) != p.end()) {
      std::uint64_t len = std::min<std::uint64_t>(m_.chunk_size, m_.image_size);
      try {
        target_.zero_range(0, len);
        target_.flush();
      } catch (const Error& e) {
        throw e.with_context("flash: invalidating the first chunk before writing");
      }
      return;
    }
  }
}

void ChunkWriter::throw_if_failed() {
  if (failure_) std::rethrow_exception(failure_);
}

void ChunkWriter::submit(std::size_t i, std::shared_ptr<const std::vector<std::uint8_t>> stored) {
  enqueue({i, std::move(stored), std::nullopt});
}

void ChunkWriter::submit(std::size_t i, manifest::ProvenStored proven) {
  enqueue({i, nullptr, std::move(proven)});
}

void ChunkWriter::enqueue(Item item) {
  const std::size_t i = item.chunk;
  std::unique_lock lock(mu_);
  throw_if_failed();
  if (i >= accepted_.size() || accepted_[i] || pending_[i].empty()) return;
  cv_space_.wait(lock, [&] { return queue_.size() < queue_limit_ || failure_ || stopping_; });
  throw_if_failed();
  accepted_[i] = true;
  queue_.push_back(std::move(item));
  cv_item_.notify_one();
}

std::size_t ChunkWriter::chunks_done() const {
  std::lock_guard lock(mu_);
  return done_;
}

std::size_t ChunkWriter::positions_verified() const {
  std::lock_guard lock(mu_);
  return verified_;
}

std::size_t ChunkWriter::positions_pending() const {
  std::size_t n = 0;
  for (const auto& p : pending_) n += p.size();
  return n;
}

std::uint64_t ChunkWriter::bytes_written() const {
  std::lock_guard lock(mu_);
  return written_;
}

void ChunkWriter::process(Item& item, ChunkDecoderHolder& dec) {
  const manifest::Chunk& c = m_.chunks[item.chunk];
  const auto& offsets = pending_[item.chunk];
  const std::string where =
      "flash: chunk " + std::to_string(item.chunk) + " @ " + hex_offset(offsets.front());
  try {
    if (item.proven)  // throws before anything is written
      dec.decoder.decode_proven(*item.proven, c, &dec.out, &cpu_.decode);
    else
      dec.decoder.decode(*item.stored, c, &dec.out, &cpu_.decode);
  } catch (const Error& e) {
    throw e.with_context(where);
  }
  std::uint64_t written = 0;
  std::size_t verified = 0;
  for (std::uint64_t off : offsets) {
    if (off == 0) {
      std::lock_guard lock(mu_);
      first_chunk_ = dec.out;
      first_index_ = item.chunk;
      first_pending_ = true;
      continue;
    }
    try {
      CpuTimer timer(cpu_.write);
      target_.write_at(off, dec.out);
    } catch (const Error& e) {
      throw e.with_context("flash: chunk " + std::to_string(item.chunk) + " @ " + hex_offset(off));
    }
    read_back_chunk(target_, item.chunk, off, dec.out, dec.readback, cpu_.read_back);
    written += dec.out.size();
    ++verified;
  }
  std::lock_guard lock(mu_);
  written_ += written;
  verified_ += verified;
  ++done_;
}

void ChunkWriter::worker() {
  ChunkDecoderHolder dec;
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_item_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
      cv_space_.notify_one();
    }
    try {
      process(item, dec);
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!failure_) failure_ = std::current_exception();
      cv_space_.notify_all();
    }
    std::lock_guard lock(mu_);
    --busy_;
    cv_idle_.notify_all();
  }
}

void ChunkWriter::finish() {
  std::unique_lock lock(mu_);
  cv_idle_.wait(lock, [&] { return (queue_.empty() && busy_ == 0) || failure_; });
  throw_if_failed();
  if (first_pending_) {
    try {
      CpuTimer timer(cpu_.write);
      target_.write_at(0, first_chunk_);
    } catch (const Error& e) {
      throw e.with_context("flash: first chunk @ 0x0");
    }
    std::vector<std::uint8_t> buffer;
    read_back_chunk(target_, first_index_, 0, first_chunk_, buffer, cpu_.read_back);
    written_ += first_chunk_.size();
    ++verified_;
    first_pending_ = false;
  }
}

}  // namespace ironstone::flasher

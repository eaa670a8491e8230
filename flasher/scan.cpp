#include "flasher/scan.h"

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "manifest/chunk_codec.h"

namespace ironstone::flasher {
namespace {

struct Item {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::size_t chunk = 0;  // chunk index, or zero-range index when zero
  std::size_t pos = 0;    // index into chunks[chunk].offsets
  bool zero = false;
};

}  // namespace

bool ScanResult::chunk_complete(std::size_t i) const {
  return std::all_of(present[i].begin(), present[i].end(), [](bool b) { return b; });
}

std::size_t ScanResult::positions_present() const {
  std::size_t n = 0;
  for (const auto& p : present) n += static_cast<std::size_t>(std::count(p.begin(), p.end(), true));
  return n;
}

std::size_t ScanResult::positions_missing() const {
  std::size_t n = 0;
  for (const auto& p : present) n += static_cast<std::size_t>(std::count(p.begin(), p.end(), false));
  return n;
}

namespace {

// Work list in offset order: chunk positions, and zero ranges cut into chunk-sized pieces.
std::vector<Item> work_list(const manifest::Manifest& m, const ScanOptions& options) {
  std::vector<Item> items;
  const std::uint64_t piece = std::max<std::uint64_t>(m.chunk_size, 1);
  for (std::size_t i = 0; options.check_chunks && i < m.chunks.size(); ++i) {
    for (std::size_t j = 0; j < m.chunks[i].offsets.size(); ++j) {
      items.push_back({m.chunks[i].offsets[j], m.chunks[i].length, i, j, false});
    }
  }
  if (options.check_zero_ranges) {
    for (std::size_t k = 0; k < m.zero_ranges.size(); ++k) {
      const auto& z = m.zero_ranges[k];
      for (std::uint64_t off = 0; off < z.length; off += piece) {
        items.push_back({z.offset + off, std::min(piece, z.length - off), k, 0, true});
      }
    }
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.offset < b.offset; });
  return items;
}

// One scan: the work list, what the workers found, and the shared counters.
// Thread rules: item_ok[n] is written by the one worker that took item n (next);
// zero_bad is atomic; everything under `mutex` is shared.
class Scan {
 public:
  Scan(Target& target, const manifest::Manifest& m, const ScanOptions& options)
      : target_(target), m_(m), options_(options), items_(work_list(m, options)), item_ok_(items_.size(), 0),
        zero_bad_(std::make_unique<std::atomic<bool>[]>(m.zero_ranges.size())) {
    for (const Item& it : items_) total_ += it.length;
    // BLAKE2b of all-zero bytes for every chunk length (usually one or two lengths).
    for (const Item& it : items_)
      if (!it.zero && !zeros_hash_.count(it.length))
        zeros_hash_[it.length] = blake2b256(std::vector<std::uint8_t>(static_cast<std::size_t>(it.length), 0));
  }

  // Runs `threads` workers (at least 1; the calling thread is one) and rethrows the
  // first exception a worker threw.
  void run(unsigned threads) {
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back([this] { work(); });
    work();
    for (auto& t : pool) t.join();
    if (failure_) std::rethrow_exception(failure_);
  }

  ScanResult result() const;

 private:
  void work() {
    std::vector<std::uint8_t> buffer;
    try {
      for (std::size_t n; !stop_ && (n = next_.fetch_add(1)) < items_.size();) {
        if (options_.cancel && options_.cancel->load()) break;
        const std::uint64_t read = check(n, buffer);
        std::lock_guard lock(mutex_);
        processed_ += items_[n].length;
        ++done_items_;
        scanned_ += read;
        if (options_.progress) options_.progress(processed_, total_);
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      stop_ = true;
    }
  }

  // Checks item n; returns the bytes read from the target.
  std::uint64_t check(std::size_t n, std::vector<std::uint8_t>& buffer) {
    const Item& it = items_[n];
    const bool in_range = it.offset <= target_.size() && it.length <= target_.size() - it.offset;
    if (!in_range || (it.zero && zero_bad_[it.chunk].load())) {
      if (it.zero) zero_bad_[it.chunk] = true;
      return 0;
    }
    if (target_.known_zero(it.offset, it.length)) {
      // A hole reads as zeros: right for a zero piece, and for a chunk only if that
      // chunk is all zeros (publish never stores one, a signed manifest could).
      if (!it.zero) item_ok_[n] = zeros_hash_.at(it.length) == m_.chunks[it.chunk].hash;
      return 0;
    }
    buffer.resize(static_cast<std::size_t>(it.length));
    try {
      target_.read_at(it.offset, buffer);
    } catch (const Error& e) {
      if (it.zero) zero_bad_[it.chunk] = true;
      std::lock_guard lock(mutex_);
      if (read_errors_++ == 0) first_error_ = e.what();
      return 0;
    }
    if (it.zero) {
      if (!manifest::is_all_zero(buffer)) zero_bad_[it.chunk] = true;
    } else {  // zeros (a fresh disk): compare with the hash of zeros, no hashing
      item_ok_[n] = (manifest::is_all_zero(buffer) ? zeros_hash_.at(it.length) : blake2b256(buffer)) ==
                    m_.chunks[it.chunk].hash;
    }
    return it.length;
  }

  Target& target_;
  const manifest::Manifest& m_;
  const ScanOptions& options_;
  const std::vector<Item> items_;
  std::uint64_t total_ = 0;
  std::map<std::uint64_t, Hash256> zeros_hash_;
  std::vector<std::uint8_t> item_ok_;
  std::unique_ptr<std::atomic<bool>[]> zero_bad_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;  // guards everything below, and serialises progress calls
  std::uint64_t processed_ = 0, scanned_ = 0, read_errors_ = 0;
  std::size_t done_items_ = 0;
  std::string first_error_;
  std::exception_ptr failure_;
};

ScanResult Scan::result() const {
  ScanResult r;
  r.present.resize(m_.chunks.size());
  for (std::size_t i = 0; i < m_.chunks.size(); ++i) r.present[i].assign(m_.chunks[i].offsets.size(), false);
  r.zero_present.assign(m_.zero_ranges.size(), false);
  r.cancelled = done_items_ < items_.size();
  for (std::size_t n = 0; n < items_.size(); ++n) {
    const Item& it = items_[n];
    if (!it.zero && item_ok_[n]) {
      r.present[it.chunk][it.pos] = true;
      r.bytes_present += it.length;
    }
  }
  // A zero range counts only if every piece of it was read (not cancelled) and was zero.
  if (options_.check_zero_ranges && !r.cancelled) {
    for (std::size_t k = 0; k < m_.zero_ranges.size(); ++k) {
      if (!zero_bad_[k]) {
        r.zero_present[k] = true;
        r.bytes_present += m_.zero_ranges[k].length;
      }
    }
  }
  r.bytes_scanned = scanned_;
  r.read_errors = read_errors_;
  r.first_read_error = first_error_;
  return r;
}

}  // namespace

ScanResult scan_target(Target& target, const manifest::Manifest& m, const ScanOptions& options) {
  Scan scan(target, m, options);
  scan.run(options.threads);
  return scan.result();
}

}  // namespace ironstone::flasher

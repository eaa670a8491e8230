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

ScanResult scan_target(Target& target, const manifest::Manifest& m, const ScanOptions& options) {
  // Work list in offset order: chunk positions, and zero ranges cut into chunk-sized pieces.
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
  std::uint64_t total = 0;
  for (const Item& it : items) total += it.length;

  // BLAKE2b of all-zero bytes for every chunk length (usually one or two lengths).
  std::map<std::uint64_t, Hash256> zeros_hash;
  for (const Item& it : items) {
    if (!it.zero && !zeros_hash.count(it.length)) {
      zeros_hash[it.length] = blake2b256(std::vector<std::uint8_t>(static_cast<std::size_t>(it.length), 0));
    }
  }
  std::vector<std::uint8_t> item_ok(items.size(), 0);  // written by one worker each
  auto zero_bad = std::make_unique<std::atomic<bool>[]>(m.zero_ranges.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards everything below, and serialises progress calls
  std::uint64_t processed = 0, scanned = 0, read_errors = 0;
  std::size_t done_items = 0;
  std::string first_error;
  std::exception_ptr failure;

  auto worker = [&] {
    std::vector<std::uint8_t> buffer;
    try {
      for (std::size_t n; !stop && (n = next.fetch_add(1)) < items.size();) {
        if (options.cancel && options.cancel->load()) break;
        const Item& it = items[n];
        bool in_range = it.offset <= target.size() && it.length <= target.size() - it.offset;
        bool skip = !in_range || (it.zero && zero_bad[it.chunk].load());
        std::uint64_t read = 0;
        if (!skip && target.known_zero(it.offset, it.length)) {
          // A hole reads as zeros: right for a zero piece, and for a chunk only if that
          // chunk is all zeros (publish never stores one, a signed manifest could).
          if (!it.zero) item_ok[n] = zeros_hash.at(it.length) == m.chunks[it.chunk].hash;
          skip = true;
        } else if (!skip) {
          buffer.resize(static_cast<std::size_t>(it.length));
          try {
            target.read_at(it.offset, buffer);
            read = it.length;
            if (it.zero) {
              if (!manifest::is_all_zero(buffer)) zero_bad[it.chunk] = true;
            } else {  // zeros (a fresh disk): compare with the hash of zeros, no hashing
              item_ok[n] = (manifest::is_all_zero(buffer) ? zeros_hash.at(it.length) : blake2b256(buffer)) == m.chunks[it.chunk].hash;
            }
          } catch (const Error& e) {
            if (it.zero) zero_bad[it.chunk] = true;
            std::lock_guard lock(mutex);
            if (read_errors++ == 0) first_error = e.what();
          }
        } else if (it.zero) {
          zero_bad[it.chunk] = true;
        }
        std::lock_guard lock(mutex);
        processed += it.length;
        ++done_items;
        scanned += read;
        if (options.progress) options.progress(processed, total);
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  };

  unsigned threads = std::max(1u, options.threads);
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  ScanResult r;
  r.present.resize(m.chunks.size());
  for (std::size_t i = 0; i < m.chunks.size(); ++i) r.present[i].assign(m.chunks[i].offsets.size(), false);
  r.zero_present.assign(m.zero_ranges.size(), false);
  r.cancelled = done_items < items.size();
  for (std::size_t n = 0; n < items.size(); ++n) {
    const Item& it = items[n];
    if (!it.zero && item_ok[n]) {
      r.present[it.chunk][it.pos] = true;
      r.bytes_present += it.length;
    }
  }
  // A zero range counts only if every piece of it was read (not cancelled) and was zero.
  if (options.check_zero_ranges && !r.cancelled) {
    for (std::size_t k = 0; k < m.zero_ranges.size(); ++k) {
      if (!zero_bad[k]) {
        r.zero_present[k] = true;
        r.bytes_present += m.zero_ranges[k].length;
      }
    }
  }
  r.bytes_scanned = scanned;
  r.read_errors = read_errors;
  r.first_read_error = first_error;
  return r;
}

}  // namespace ironstone::flasher

#include "builder/chunk_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "builder/errc.h"
#include "builder/store.h"
#include "manifest/chunk_codec.h"
#include "manifest/image_hash.h"
#include "manifest/layout.h"
#include "manifest/torrent.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using manifest::Chunk;
using manifest::Compression;

void remove_created_chunks(const std::vector<fs::path>& files) {
  std::error_code ec;
  for (const auto& p : files) {
    fs::remove(p, ec);
    if (fs::is_empty(p.parent_path(), ec)) fs::remove(p.parent_path(), ec);  // chunks/<aa>/ made for it
  }
}

namespace {

// A block handed from the reading thread to a worker (images read in order only).
struct Job {
  std::uint64_t position = 0;  // block index
  std::vector<std::uint8_t> data;
  std::size_t length = 0;
  bool hole = false;
};

// Reads the block at `offset` (up to buf.size() bytes) with read_at() and says whether it is all
// zeros; returns its length. A block inside a hole is not read (one SEEK_DATA for the block).
// While a block is zero so far, each window of kZeroWindow bytes is read into the same first
// bytes of `buf`, which stay in the CPU cache: a zero stretch of a dense image costs a copy into
// cache and a scan, not a trip through memory. `buf` holds the block's bytes unless *zero.
constexpr std::size_t kZeroWindow = 256 * 1024;
std::size_t read_block(const ImageReader& reader, std::uint64_t offset, std::span<std::uint8_t> buf, bool* zero) {
  *zero = true;
  const std::uint64_t size = *reader.size_hint();
  const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - std::min(offset, size)));
  if (length == 0 || reader.hole_at(offset, length)) return length;
  std::size_t pos = 0;
  while (pos < length) {
    std::uint8_t* dest = buf.data() + (*zero ? 0 : pos);
    const std::size_t n = reader.read_at(offset + pos, std::span(dest, std::min(kZeroWindow, length - pos)), nullptr);
    if (*zero && !manifest::is_all_zero(std::span(dest, n))) {
      // The first data: move it to its place; everything before it is zeros.
      std::memmove(buf.data() + pos, dest, n);
      std::memset(buf.data(), 0, pos);
      *zero = false;
    }
    pos += n;
  }
  return length;
}

// What one worker thread owns: zstd contexts and a scratch buffer.
struct WorkerTools {
  explicit WorkerTools(int level) : enc(level) {}
  manifest::ChunkEncoder enc;
  manifest::ChunkDecoder dec;
  std::vector<std::uint8_t> tmp;
};

// State shared by the workers; every member is guarded by `mu` unless noted.
class Pipeline {
 public:
  explicit Pipeline(const PipelineOptions& o) : opt_(o) {}

  PipelineResult run(ImageReader& reader);

 private:
  // Images read in order: the calling thread reads, `threads` workers take the blocks.
  std::uint64_t read_in_order(ImageReader& reader, int threads);
  void queue_worker(WorkerTools& tools);
  // Random-access images: every thread (the caller included) claims the next block and reads it itself.
  std::uint64_t read_in_parallel(const ImageReader& reader, int threads);
  void claiming_worker(const ImageReader& reader, WorkerTools& tools, bool reports_progress);
  // Runs body() on a worker thread; its exception becomes the pipeline's failure (the first one wins).
  template <class Body>
  void capture_failure(Body&& body);

  // `zero`: the block is known to be all zeros; `unknown`: not checked yet (else: known not zero).
  enum class Content { kZero, kData, kUnknown };
  void process(std::uint64_t position, std::span<const std::uint8_t> data, Content content, WorkerTools& tools);
  // Writes or reuses the store file of a new unique chunk; fills stored_size/compression.
  void store_chunk(Chunk& c, std::span<const std::uint8_t> data, WorkerTools& tools);
  const Hash256& zero_hash(std::size_t length);

  const PipelineOptions& opt_;
  std::mutex mu_;
  std::condition_variable job_ready_, slot_free_;
  std::deque<Job> queue_;
  std::vector<std::vector<std::uint8_t>> free_buffers_;
  bool done_reading_ = false;
  std::uint64_t next_block_ = 0, blocks_ = 0;  // random access: next block to claim, block count
  std::exception_ptr failure_;
  std::vector<Hash256> block_hashes_;
  std::vector<bool> zero_blocks_;
  std::map<Hash256, Chunk> unique_;
  std::map<std::size_t, Hash256> zero_hashes_;
  std::vector<fs::path> created_;
  std::vector<fs::path> created_dirs_;  // chunks/<aa>/ directories this run made
  std::map<Hash256, manifest::PieceHashes> piece_hashes_;  // chunk hash -> torrent hashes of its stored file
  std::uint64_t reused_ = 0;
};

const Hash256& Pipeline::zero_hash(std::size_t length) {
  auto it = zero_hashes_.find(length);
  if (it == zero_hashes_.end()) {
    std::vector<std::uint8_t> zeros(length, 0);
    it = zero_hashes_.emplace(length, blake2b256(zeros)).first;
  }
  return it->second;
}

// The signed stored_hash (format 2): a raw chunk's stored bytes are its bytes, hashed already.
Hash256 stored_hash_of(const Chunk& c, std::span<const std::uint8_t> stored) {
  return c.compression == Compression::kRaw ? c.hash : blake2b256(stored);
}

void Pipeline::store_chunk(Chunk& c, std::span<const std::uint8_t> data, WorkerTools& tools) {
  fs::path path = opt_.store / manifest::layout::chunk_relpath(c.hash);
  std::error_code ec;
  auto existing = fs::file_size(path, ec);
  if (!ec && existing > 0 && existing <= c.length) {
    // Reuse only what provably holds these bytes (raw iff its size is the length).
    c.stored_size = static_cast<std::uint32_t>(existing);
    c.compression = existing == c.length ? Compression::kRaw : Compression::kZstd;
    try {
      std::string bytes = read_text_file(path, c.length);
      std::span<const std::uint8_t> stored(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      c.stored_hash = stored_hash_of(c, stored);
      tools.dec.decode(stored, c, &tools.tmp, nullptr, manifest::RawCheck::kAlways);  // `hash` must hold too
      const manifest::PieceHashes piece = manifest::piece_hashes(stored, opt_.chunk_size);
      std::lock_guard lock(mu_);
      ++reused_;
      piece_hashes_[c.hash] = piece;
      return;
    } catch (const Error&) {
      // Corrupt leftover: replaced below by a fresh copy (rename is atomic).
    }
  }
  const std::span<const std::uint8_t> stored = tools.enc.encode(data, &c.compression);
  c.stored_size = static_cast<std::uint32_t>(stored.size());
  c.stored_hash = stored_hash_of(c, stored);
  if (opt_.dry_run) {
    const manifest::PieceHashes piece = manifest::piece_hashes(stored, opt_.chunk_size);
    std::lock_guard lock(mu_);
    created_.push_back(path);  // would be created; never removed by a rollback (dry runs have none)
    piece_hashes_[c.hash] = piece;
    return;
  }
  const bool made_dir = fs::create_directories(path.parent_path(), ec);
  if (ec) throw error(Errc::kStore, path.parent_path().string() + ": cannot create: " + ec.message());
  if (made_dir) {
    // Recorded before writing: if the write fails (full disk), the rollback removes the
    // directory again, so a failed publish leaves no empty chunks/<aa>/ behind.
    std::lock_guard lock(mu_);
    created_dirs_.push_back(path.parent_path());
  }
  // Writeback starts now, overlapped with the chunks still to come; publish waits for it
  // (sync_store) before it commits the release.
  write_file_atomic(path, stored, 0644, FileSync::kStartWriteback);
  // The torrent's hashes of the file, from the bytes just written: no second read.
  const manifest::PieceHashes piece = manifest::piece_hashes(stored, opt_.chunk_size);
  std::lock_guard lock(mu_);
  created_.push_back(path);
  piece_hashes_[c.hash] = piece;
}

void Pipeline::process(std::uint64_t position, std::span<const std::uint8_t> data, Content content,
                       WorkerTools& tools) {
  const std::uint64_t offset = position * opt_.chunk_size;
  if (content == Content::kZero || (content == Content::kUnknown && manifest::is_all_zero(data))) {
    std::lock_guard lock(mu_);
    block_hashes_[position] = zero_hash(data.size());
    zero_blocks_[position] = true;
    return;
  }
  Hash256 h = blake2b256(data);  // the one BLAKE2b pass over these bytes
  {
    std::lock_guard lock(mu_);
    block_hashes_[position] = h;
    auto [it, inserted] = unique_.try_emplace(h);
    it->second.offsets.push_back(offset);
    if (!inserted) return;  // another block with these bytes stores the file
    it->second.hash = h;
    it->second.length = static_cast<std::uint32_t>(data.size());
  }
  Chunk c;
  c.hash = h;
  c.length = static_cast<std::uint32_t>(data.size());
  store_chunk(c, data, tools);
  std::lock_guard lock(mu_);
  Chunk& slot = unique_[h];
  slot.stored_size = c.stored_size;
  slot.compression = c.compression;
  slot.stored_hash = c.stored_hash;
}

template <class Body>
void Pipeline::capture_failure(Body&& body) {
  try {
    body();
  } catch (...) {
    std::lock_guard lock(mu_);
    if (!failure_) failure_ = std::current_exception();
    slot_free_.notify_all();
    job_ready_.notify_all();
  }
}

void Pipeline::queue_worker(WorkerTools& tools) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      job_ready_.wait(lock, [&] { return !queue_.empty() || done_reading_ || failure_; });
      if (failure_ || queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    process(job.position, std::span(job.data.data(), job.length), job.hole ? Content::kZero : Content::kUnknown,
            tools);
    std::lock_guard lock(mu_);
    free_buffers_.push_back(std::move(job.data));
    slot_free_.notify_one();
  }
}

std::uint64_t Pipeline::read_in_order(ImageReader& reader, int threads) {
  for (int i = 0; i < 2 * threads + 1; ++i) free_buffers_.emplace_back(opt_.chunk_size);
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([this] {
      capture_failure([this] {
        WorkerTools tools(opt_.level);
        queue_worker(tools);
      });
    });
  std::uint64_t position = 0, image_size = 0;
  capture_failure([&] {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu_);
        slot_free_.wait(lock, [&] { return !free_buffers_.empty() || failure_; });
        if (failure_) return;
        job.data = std::move(free_buffers_.back());
        free_buffers_.pop_back();
      }
      job.length = reader.read(job.data, &job.hole);
      if (job.length == 0) return;
      job.position = position++;
      image_size += job.length;
      if (opt_.progress && position % 16 == 0) opt_.progress(reader.input_position(), reader.input_size());
      std::lock_guard lock(mu_);
      block_hashes_.resize(position);
      zero_blocks_.resize(position);
      queue_.push_back(std::move(job));
      job_ready_.notify_one();
    }
  });
  {
    std::lock_guard lock(mu_);
    done_reading_ = true;
  }
  job_ready_.notify_all();
  for (auto& t : workers) t.join();
  if (opt_.progress && !failure_) opt_.progress(reader.input_position(), reader.input_size());
  return image_size;
}

void Pipeline::claiming_worker(const ImageReader& reader, WorkerTools& tools, bool reports_progress) {
  const std::uint64_t size = *reader.size_hint();
  std::vector<std::uint8_t> buf(opt_.chunk_size);
  for (;;) {
    std::uint64_t position;
    {
      std::lock_guard lock(mu_);
      if (failure_ || next_block_ == blocks_) return;
      position = next_block_++;
    }
    bool zero = false;
    const std::size_t n = read_block(reader, position * opt_.chunk_size, buf, &zero);
    process(position, std::span(buf.data(), n), zero ? Content::kZero : Content::kData, tools);
    if (reports_progress && opt_.progress && position % 16 == 0)
      opt_.progress(std::min(size, (position + 1) * opt_.chunk_size), size);
  }
}

std::uint64_t Pipeline::read_in_parallel(const ImageReader& reader, int threads) {
  const std::uint64_t size = *reader.size_hint();
  blocks_ = (size + opt_.chunk_size - 1) / opt_.chunk_size;
  block_hashes_.resize(blocks_);
  zero_blocks_.resize(blocks_);
  auto work = [this, &reader](bool reports_progress) {
    capture_failure([&] {
      WorkerTools tools(opt_.level);
      claiming_worker(reader, tools, reports_progress);
    });
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back(work, false);
  work(true);  // this thread is a worker too, the one that reports progress
  for (auto& t : workers) t.join();
  if (opt_.progress && !failure_) opt_.progress(size, size);
  return size;
}

PipelineResult Pipeline::run(ImageReader& reader) {
  const int threads = opt_.threads > 0 ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::uint64_t image_size =
      reader.random_access() ? read_in_parallel(reader, threads) : read_in_order(reader, threads);
  if (failure_) {
    if (!opt_.dry_run) remove_created_chunks(created_);
    std::error_code ec;
    for (const auto& dir : created_dirs_) fs::remove(dir, ec);  // only removes it when empty
    std::rethrow_exception(failure_);
  }

  PipelineResult out;
  out.image_size = image_size;
  out.image_hash = manifest::image_hash_from_block_hashes(block_hashes_);
  for (auto& [hash, c] : unique_) {
    std::sort(c.offsets.begin(), c.offsets.end());
    out.piece_hashes.push_back(piece_hashes_.at(hash));
    out.chunks.push_back(std::move(c));
  }
  for (std::uint64_t p = 0; p < zero_blocks_.size(); ++p) {
    if (!zero_blocks_[p]) continue;
    std::uint64_t off = p * opt_.chunk_size;
    std::uint64_t len = std::min<std::uint64_t>(opt_.chunk_size, image_size - off);
    if (!out.zero_ranges.empty() && out.zero_ranges.back().offset + out.zero_ranges.back().length == off)
      out.zero_ranges.back().length += len;
    else
      out.zero_ranges.push_back({off, len});
  }
  out.created_files = std::move(created_);
  out.reused_chunks = reused_;
  return out;
}

}  // namespace

PipelineResult chunk_image(ImageReader& reader, const PipelineOptions& options) {
  Pipeline p(options);
  return p.run(reader);
}

}  // namespace ironstone::builder

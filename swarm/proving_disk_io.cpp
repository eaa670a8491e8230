#include "swarm/proving_disk_io.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <libtorrent/hasher.hpp>
#include <libtorrent/session.hpp>
#include <thread>
#include <utility>

#include "manifest/torrent.h"

namespace ironstone::swarm {

ProvenPieces::Bytes ProvenPieces::take(lt::piece_index_t p) {
  std::lock_guard lock(mu_);
  auto it = pieces_.find(p);
  if (it == pieces_.end()) return nullptr;
  Bytes out = std::move(it->second);
  pieces_.erase(it);
  bytes_ -= out->size();
  return out;
}

bool ProvenPieces::put(lt::piece_index_t p, Bytes bytes, bool always) {
  std::lock_guard lock(mu_);
  auto it = pieces_.find(p);
  const std::size_t replaced = it == pieces_.end() ? 0 : it->second->size();
  if (!always && bytes_ - replaced + bytes->size() > max_bytes_) {
    ++over_budget;
    return false;
  }
  bytes_ = bytes_ - replaced + bytes->size();
  pieces_.insert_or_assign(p, std::move(bytes));
  return true;
}

void ProvenPieces::vouch(lt::piece_index_t p, HashedPiece hashed) {
  std::lock_guard lock(mu_);
  vouched_.insert_or_assign(p, std::move(hashed));
}

void ProvenPieces::withdraw(lt::piece_index_t p) {
  std::lock_guard lock(mu_);
  vouched_.erase(p);
}

std::optional<HashedPiece> ProvenPieces::claim(lt::piece_index_t p) {
  std::lock_guard lock(mu_);
  auto it = vouched_.find(p);
  if (it == vouched_.end()) return std::nullopt;
  std::optional<HashedPiece> out(std::move(it->second));
  vouched_.erase(it);
  return out;
}

std::size_t ProvenPieces::held() const {
  std::lock_guard lock(mu_);
  return pieces_.size();
}

std::size_t ProvenPieces::held_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

namespace {

using HashHandler = std::function<void(lt::piece_index_t, lt::sha1_hash const&, lt::storage_error const&)>;
constexpr std::int64_t kBlock = lt::default_block_size;

// One thread running hash jobs in order; stop() drops what has not started.
class HashThread {
 public:
  HashThread() : thread_([this] { run(); }) {}
  ~HashThread() { stop(); }
  void push(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      jobs_.clear();
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// Frees the read buffers handed to libtorrent in memory mode. Stateless, so it outlives
// every disk_buffer_holder whatever the teardown order.
struct HeapBuffers final : lt::buffer_allocator_interface {
  void free_disk_buffer(char* b) override { delete[] b; }
};
HeapBuffers& heap_buffers() {
  static HeapBuffers a;
  return a;
}

lt::storage_error read_error(lt::file_index_t f) {
  lt::storage_error e;
  e.ec = boost::system::errc::make_error_code(boost::system::errc::no_such_file_or_directory);
  e.file(f);
  e.operation = lt::operation_t::file_read;
  return e;
}

class ProvingDiskIo final : public lt::disk_interface {
 public:
  ProvingDiskIo(lt::io_context& ioc, std::unique_ptr<lt::disk_interface> inner,
                std::shared_ptr<const lt::torrent_info> ti, std::shared_ptr<ProvenPieces> out, bool in_memory)
      : ioc_(ioc), inner_(std::move(inner)), ti_(std::move(ti)), out_(std::move(out)) {
    // The file size of every piece that is exactly one whole file (0 for any other piece).
    const lt::file_storage& fs = ti_->orig_files();
    file_size_.assign(static_cast<std::size_t>(fs.num_pieces()), 0);
    bool all = true;
    for (lt::piece_index_t p(0); p < fs.end_piece(); ++p) {
      const lt::file_index_t f = fs.file_index_at_piece(p);
      const std::int64_t start = static_cast<std::int64_t>(static_cast<int>(p)) * fs.piece_length();
      const std::int64_t size = fs.file_size(f);
      if (fs.pad_file_at(f) || fs.file_offset(f) != start || size <= 0 || size > fs.piece_size(p) ||
          fs.root(f).is_all_zeros()) {
        all = false;
        continue;
      }
      file_size_[static_cast<std::size_t>(static_cast<int>(p))] = size;
    }
    memory_ = in_memory && all;  // memory mode needs every piece to be one whole file
    out_->in_memory = memory_;
  }
  ~ProvingDiskIo() override { hasher_.stop(); }

  lt::storage_holder new_torrent(lt::storage_params const& p, std::shared_ptr<void> const& torrent) override {
    lt::storage_holder h = inner_->new_torrent(p, torrent);  // in memory mode too: it gives the index
    const lt::storage_index_t idx = h;
    if (p.info_hash == ti_->info_hashes().get_best() && !ours_) ours_ = idx;
    inner_holders_.insert_or_assign(idx, std::move(h));
    return lt::storage_holder(idx, *this);
  }
  void remove_torrent(lt::storage_index_t idx) override {
    if (ours_ == idx) {
      ours_.reset();
      pieces_.clear();
      flushing_.clear();  // the torrent is gone: its verdicts are not wanted
    }
    inner_holders_.erase(idx);  // the inner holder releases the inner storage
  }

  void async_read(lt::storage_index_t st, lt::peer_request const& r,
                  std::function<void(lt::disk_buffer_holder, lt::storage_error const&)> handler,
                  lt::disk_job_flags_t flags) override {
    if (!in_memory(st)) {
      inner_->async_read(st, r, std::move(handler), flags);
      return;
    }
    const std::int64_t size = provable(st, r.piece);
    auto it = pieces_.find(r.piece);
    if (it == pieces_.end() || !it->second.passed || r.start < 0 || r.length <= 0 ||
        r.start + r.length > ti_->orig_files().piece_size(r.piece)) {
      post([h = std::move(handler), e = read_error(ti_->orig_files().file_index_at_piece(
                                        r.piece))]() mutable { h(lt::disk_buffer_holder(), e); });
      return;
    }
    // The file's bytes, then the pad zeros up to the piece size.
    char* buf = new char[static_cast<std::size_t>(r.length)];
    const std::vector<std::uint8_t>& bytes = *it->second.data();
    const std::int64_t from_file = std::clamp<std::int64_t>(size - r.start, 0, r.length);
    if (from_file > 0) std::memcpy(buf, bytes.data() + r.start, static_cast<std::size_t>(from_file));
    out_->copied_out.fetch_add(std::uint64_t(std::max<std::int64_t>(from_file, 0)), std::memory_order_relaxed);
    std::memset(buf + from_file, 0, static_cast<std::size_t>(r.length - from_file));
    post([h = std::move(handler), holder = lt::disk_buffer_holder(heap_buffers(), buf, r.length)]() mutable {
      h(std::move(holder), lt::storage_error{});
    });
  }

  bool async_write(lt::storage_index_t st, lt::peer_request const& r, char const* buf,
                   std::shared_ptr<lt::disk_observer> o,
                   std::function<void(lt::storage_error const&)> handler,
                   lt::disk_job_flags_t flags) override {
    if (const std::int64_t size = provable(st, r.piece);
        size > 0 && r.start % kBlock == 0 && r.start < size) {
      Piece& c = pieces_[r.piece];
      if (!c.passed) {  // a proven piece never changes
        if (!c.data()) start_copy(c, r.piece, size);
        keep_block(c, r, buf, size);
      }
    }
    if (!in_memory(st)) {
      if (ours_ == st) handler = count_write(r.piece, std::move(handler));
      return inner_->async_write(st, r, buf, std::move(o), std::move(handler), flags);
    }
    post([h = std::move(handler)] { h(lt::storage_error{}); });  // pad blocks: nothing to keep
    return false;
  }

  void async_hash(lt::storage_index_t st, lt::piece_index_t piece, lt::span<lt::sha256_hash> v2,
                  lt::disk_job_flags_t flags, HashHandler handler) override {
    const std::int64_t size = provable(st, piece);
    const long blocks = static_cast<long>((size + kBlock - 1) / kBlock);
    if (!in_memory(st) && ours_ == st) handler = after_writes(piece, std::move(handler));
    if (!in_memory(st) && (!(flags & lt::disk_interface::v1_hash) || size == 0 || v2.size() != blocks)) {
      inner_->async_hash(st, piece, v2, flags, std::move(handler));
      return;
    }
    auto it = pieces_.find(piece);
    const bool complete = it != pieces_.end() && it->second.data() && it->second.missing == 0;
    if (!in_memory(st) && !complete) {
      if (it != pieces_.end()) pieces_.erase(it);
      hash_by_inner_v2_first(st, piece, v2, flags, std::move(handler));
      return;
    }
    ProvenPieces::Bytes bytes;
    std::optional<HashedPiece> known;  // the block hashes of the vouched bytes
    if (complete) {
      bytes = it->second.shared();
      known = it->second.vouched;
    } else {  // memory mode, blocks missing: hash what there is (it fails), as a disk would
      auto zeros = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(size));
      if (it != pieces_.end() && it->second.data()) *zeros = *it->second.data();
      bytes = std::move(zeros);
    }
    if (!in_memory(st)) pieces_.erase(it);  // disk mode: the copy goes with the job
    const int piece_size = ti_->orig_files().piece_size(piece);
    // The span points into the caller's vector, which its handler owns: valid until the
    // handler has run. The result goes back to the network thread by post().
    hasher_.push([this, st, piece, v2, flags, piece_size, bytes = std::move(bytes), known = std::move(known),
                  handler = std::move(handler)]() mutable {
      CpuTimer timer(out_->piece_hash);
      const std::vector<lt::sha256_hash> blocks = known ? known->blocks() : manifest::block_hashes(*bytes);
      const bool fits = static_cast<long>(blocks.size()) == v2.size();
      if (fits) std::copy(blocks.begin(), blocks.end(), v2.begin());
      const bool ok = fits && proves(piece, v2);
      // Memory mode and not proven: the real SHA-1 of the padded piece, from the bytes.
      lt::sha1_hash sha1;
      if (!ok && memory_ && (flags & lt::disk_interface::v1_hash))
        sha1 = manifest::v1_piece_hash(*bytes, static_cast<std::uint32_t>(piece_size));
      timer.stop();
      post([this, st, piece, v2, flags, ok, sha1, by_vouch = known.has_value(), bytes = std::move(bytes),
            handler = std::move(handler)]() mutable {
        if (ok) {
          ++out_->proven;
          if (by_vouch) ++out_->vouched;
          if (in_memory(st)) pieces_[piece].passed = true;
          if (out_->put(piece, std::move(bytes), in_memory(st))) ++out_->kept;
          handler(piece, ti_->hash_for_piece(piece), lt::storage_error{});
          return;
        }
        ++out_->not_proven;
        if (in_memory(st)) {
          handler(piece, sha1, lt::storage_error{});  // libtorrent fails it and clears the piece
          return;
        }
        inner_->async_hash(st, piece, v2, flags, std::move(handler));  // the real hashes, from disk
        inner_->submit_jobs();
      });
    });
  }

  void async_hash2(lt::storage_index_t st, lt::piece_index_t piece, int offset, lt::disk_job_flags_t flags,
                   std::function<void(lt::piece_index_t, lt::sha256_hash const&, lt::storage_error const&)>
                       handler) override {
    if (!in_memory(st)) {
      inner_->async_hash2(st, piece, offset, flags, std::move(handler));
      return;
    }
    lt::sha256_hash h;
    auto it = pieces_.find(piece);
    const std::int64_t size = provable(st, piece);
    if (it != pieces_.end() && it->second.data() && offset >= 0 && offset < size) {
      const auto n = static_cast<int>(std::min<std::int64_t>(kBlock, size - offset));
      h = lt::hasher256(reinterpret_cast<const char*>(it->second.data()->data()) + offset, n).final();
    }
    post([hd = std::move(handler), piece, h] { hd(piece, h, lt::storage_error{}); });
  }

  void async_move_storage(
      lt::storage_index_t st, std::string p, lt::move_flags_t flags,
      std::function<void(lt::status_t, std::string const&, lt::storage_error const&)> handler) override {
    if (!in_memory(st)) return inner_->async_move_storage(st, std::move(p), flags, std::move(handler));
    post([h = std::move(handler), p = std::move(p)] { h(lt::status_t::no_error, p, lt::storage_error{}); });
  }
  void async_release_files(lt::storage_index_t st, std::function<void()> handler) override {
    if (!in_memory(st)) return inner_->async_release_files(st, std::move(handler));
    if (handler) post(std::move(handler));
  }
  void async_check_files(lt::storage_index_t st, lt::add_torrent_params const* resume,
                         lt::aux::vector<std::string, lt::file_index_t> links,
                         std::function<void(lt::status_t, lt::storage_error const&)> handler) override {
    if (!in_memory(st)) return inner_->async_check_files(st, resume, std::move(links), std::move(handler));
    post([h = std::move(handler)] { h(lt::status_t::no_error, lt::storage_error{}); });  // nothing kept yet
  }
  void async_stop_torrent(lt::storage_index_t st, std::function<void()> handler) override {
    if (!in_memory(st)) return inner_->async_stop_torrent(st, std::move(handler));
    if (handler) post(std::move(handler));
  }
  void async_rename_file(
      lt::storage_index_t st, lt::file_index_t index, std::string name,
      std::function<void(std::string const&, lt::file_index_t, lt::storage_error const&)> handler) override {
    if (!in_memory(st)) return inner_->async_rename_file(st, index, std::move(name), std::move(handler));
    post([h = std::move(handler), index, name = std::move(name)] { h(name, index, lt::storage_error{}); });
  }
  void async_delete_files(lt::storage_index_t st, lt::remove_flags_t options,
                          std::function<void(lt::storage_error const&)> handler) override {
    if (!in_memory(st)) return inner_->async_delete_files(st, options, std::move(handler));
    pieces_.clear();
    post([h = std::move(handler)] { h(lt::storage_error{}); });
  }
  void async_set_file_priority(lt::storage_index_t st,
                               lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
                               std::function<void(lt::storage_error const&,
                                                  lt::aux::vector<lt::download_priority_t, lt::file_index_t>)>
                                   handler) override {
    if (!in_memory(st)) return inner_->async_set_file_priority(st, std::move(prio), std::move(handler));
    post([h = std::move(handler), prio = std::move(prio)]() mutable {
      h(lt::storage_error{}, std::move(prio));
    });
  }
  void async_clear_piece(lt::storage_index_t st, lt::piece_index_t index,
                         std::function<void(lt::piece_index_t)> handler) override {
    // The piece failed its hash: its blocks come again.
    if (auto it = pieces_.find(index); ours_ == st && it != pieces_.end() && !it->second.passed)
      pieces_.erase(it);
    if (!in_memory(st)) return inner_->async_clear_piece(st, index, std::move(handler));
    post([h = std::move(handler), index] { h(index); });
  }
  void update_stats_counters(lt::counters& c) const override { inner_->update_stats_counters(c); }
  std::vector<lt::open_file_state> get_status(lt::storage_index_t st) const override {
    if (in_memory(st)) return {};
    return inner_->get_status(st);
  }
  void abort(bool wait) override {
    hasher_.stop();  // jobs not started are dropped with their handlers: libtorrent is shutting down
    inner_->abort(wait);
  }
  void submit_jobs() override { inner_->submit_jobs(); }
  void settings_updated() override { inner_->settings_updated(); }

 private:
  // A piece's copy: our own bytes, or the bytes vouched for (shared, never written to).
  struct Piece {
    std::shared_ptr<std::vector<std::uint8_t>> bytes;  // the file's bytes as written
    std::optional<HashedPiece> vouched;                // or: the blocks written matched these
    std::vector<bool> have;                            // per 16 KiB block
    std::size_t missing = 0;
    bool passed = false;  // memory mode: proven; immutable from then on and served to peers
    const std::vector<std::uint8_t>* data() const { return vouched ? vouched->bytes().get() : bytes.get(); }
    ProvenPieces::Bytes shared() const { return vouched ? vouched->bytes() : ProvenPieces::Bytes(bytes); }
  };

  // The piece's first block: the vouched bytes if the caller vouched for exactly the file's
  // bytes, else a copy of our own.
  void start_copy(Piece& c, lt::piece_index_t piece, std::int64_t size) {
    c.vouched = out_->claim(piece);
    if (c.vouched && c.vouched->bytes()->size() != static_cast<std::size_t>(size)) c.vouched.reset();
    if (!c.vouched) c.bytes = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(size));
    c.have.assign(static_cast<std::size_t>((size + kBlock - 1) / kBlock), false);
    c.missing = c.have.size();
  }

  // One block written (REQUIRES: r.start a block start inside the file; c has a copy).
  void keep_block(Piece& c, lt::peer_request const& r, char const* buf, std::int64_t size) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::int64_t>(r.length, size - r.start));
    if (c.vouched && std::memcmp(c.vouched->bytes()->data() + r.start, buf, n) != 0) {
      // Not the vouched bytes: our own copy of what matched so far, hashed for real.
      c.bytes = std::make_shared<std::vector<std::uint8_t>>(*c.vouched->bytes());
      c.vouched.reset();
    }
    if (!c.vouched) {
      std::memcpy(c.bytes->data() + r.start, buf, n);
      out_->copied_in.fetch_add(n, std::memory_order_relaxed);
    }
    const auto block = static_cast<std::size_t>(r.start / kBlock);
    if (!c.have[block]) {
      c.have[block] = true;
      --c.missing;
    }
  }

  // Disk mode: a hash verdict on a piece reaches libtorrent only once no write of that
  // piece is in flight. libtorrent marks a block finished when its write
  // completes, even after a failed hash has restored the piece (torrent.cpp,
  // on_disk_write_complete); add_piece() and the peers then skip that block, and the piece
  // fails again with its old bytes. The copy is hashed faster than the inner disk I/O
  // writes, so without this a failed piece retried at once failed again (~1 % of runs of
  // the two retry tests in ProvingDiskIo, OnDisk).
  struct Flushing {
    int writes = 0;                           // issued, handler not yet run
    std::vector<std::function<void()>> after;  // verdicts waiting for them, in order
  };
  std::function<void(lt::storage_error const&)> count_write(lt::piece_index_t piece,
                                                            std::function<void(lt::storage_error const&)> h) {
    ++flushing_[piece].writes;
    return [this, piece, h = std::move(h)](lt::storage_error const& e) {
      h(e);
      written(piece);
    };
  }
  void written(lt::piece_index_t piece) {
    auto it = flushing_.find(piece);
    if (it == flushing_.end() || --it->second.writes > 0) return;
    std::vector<std::function<void()>> after = std::move(it->second.after);
    flushing_.erase(it);
    for (auto& f : after) f();
  }
  HashHandler after_writes(lt::piece_index_t piece, HashHandler h) {
    return [this, piece, h = std::move(h)](lt::piece_index_t p, lt::sha1_hash const& sha1,
                                           lt::storage_error const& e) {
      auto it = flushing_.find(piece);
      if (it == flushing_.end()) return h(p, sha1, e);
      it->second.after.push_back([h, p, sha1, e] { h(p, sha1, e); });
    };
  }

  template <class F>
  void post(F&& f) {
    boost::asio::post(ioc_, std::forward<F>(f));
  }
  bool in_memory(lt::storage_index_t st) const { return memory_ && ours_ == st; }

  // The file size of `piece` when it is one whole file of the release torrent in our
  // storage, else 0.
  std::int64_t provable(lt::storage_index_t st, lt::piece_index_t piece) const {
    if (ours_ != st || piece < lt::piece_index_t(0) ||
        static_cast<int>(piece) >= static_cast<int>(file_size_.size()))
      return 0;
    return file_size_[static_cast<std::size_t>(static_cast<int>(piece))];
  }

  // The block hashes v2 make the root of the piece's file in the torrent.
  bool proves(lt::piece_index_t piece, lt::span<const lt::sha256_hash> v2) const {
    const lt::file_storage& fs = ti_->orig_files();
    return manifest::merkle_root({v2.data(), static_cast<std::size_t>(v2.size())}) ==
           fs.root(fs.file_index_at_piece(piece));
  }

  // No copy of the piece: the inner disk I/O hashes it, SHA-1 skipped when the block
  // hashes prove it.
  void hash_by_inner_v2_first(lt::storage_index_t st, lt::piece_index_t piece, lt::span<lt::sha256_hash> v2,
                              lt::disk_job_flags_t flags, HashHandler handler) {
    inner_->async_hash(st, piece, v2, flags & ~lt::disk_interface::v1_hash,
                       [this, st, piece, v2, flags, handler = std::move(handler)](
                           lt::piece_index_t p, lt::sha1_hash const&, lt::storage_error const& e) mutable {
                         if (!e && proves(piece, v2)) {
                           ++out_->proven;
                           handler(p, ti_->hash_for_piece(piece), e);
                           return;
                         }
                         ++out_->not_proven;
                         inner_->async_hash(st, piece, v2, flags, std::move(handler));
                         inner_->submit_jobs();
                       });
  }

  lt::io_context& ioc_;
  std::unique_ptr<lt::disk_interface> inner_;
  std::shared_ptr<const lt::torrent_info> ti_;
  std::shared_ptr<ProvenPieces> out_;
  std::vector<std::int64_t> file_size_;
  bool memory_ = false;
  std::map<lt::storage_index_t, lt::storage_holder> inner_holders_;
  std::optional<lt::storage_index_t> ours_;
  // Disk mode: the pieces being downloaded. Memory mode: every piece, kept once proven.
  std::map<lt::piece_index_t, Piece> pieces_;
  std::map<lt::piece_index_t, Flushing> flushing_;  // disk mode: pieces with writes in flight
  HashThread hasher_;  // last: its thread stops before the members it uses go
};

}  // namespace

lt::disk_io_constructor_type proving_disk_io(std::shared_ptr<const lt::torrent_info> ti,
                                             std::shared_ptr<ProvenPieces> out, bool in_memory, DiskBackend inner) {
  return [ti = std::move(ti), out = std::move(out), in_memory, make_inner = disk_io_constructor(inner)](
             lt::io_context& ioc, lt::settings_interface const& sett, lt::counters& cnt) {
    return std::unique_ptr<lt::disk_interface>(
        std::make_unique<ProvingDiskIo>(ioc, make_inner(ioc, sett, cnt), ti, out, in_memory));
  };
}

}  // namespace ironstone::swarm

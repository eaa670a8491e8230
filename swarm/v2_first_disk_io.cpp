#include "swarm/v2_first_disk_io.h"

#include <libtorrent/hasher.hpp>
#include <libtorrent/session.hpp>
#include <map>
#include <utility>
#include <vector>

#include "manifest/torrent.h"

namespace ironstone::swarm {

namespace {

using HashHandler = std::function<void(lt::piece_index_t, lt::sha1_hash const&, lt::storage_error const&)>;

class V2FirstDiskIo final : public lt::disk_interface {
 public:
  V2FirstDiskIo(std::unique_ptr<lt::disk_interface> inner, std::shared_ptr<const lt::torrent_info> ti,
                std::shared_ptr<V2FirstCounters> counters)
      : inner_(std::move(inner)), ti_(std::move(ti)), counters_(std::move(counters)) {}

  lt::storage_holder new_torrent(lt::storage_params const& p, std::shared_ptr<void> const& torrent) override {
    lt::storage_holder h = inner_->new_torrent(p, torrent);
    const lt::storage_index_t idx = h;
    Storage s{std::move(h), ti_ && p.info_hash == ti_->info_hashes().get_best()};
    storages_.insert_or_assign(idx, std::move(s));
    return lt::storage_holder(idx, *this);
  }
  void remove_torrent(lt::storage_index_t idx) override {
    storages_.erase(idx);
  }  // the inner holder releases it

  void async_read(lt::storage_index_t st, lt::peer_request const& r,
                  std::function<void(lt::disk_buffer_holder, lt::storage_error const&)> handler,
                  lt::disk_job_flags_t flags) override {
    inner_->async_read(st, r, std::move(handler), flags);
  }
  bool async_write(lt::storage_index_t st, lt::peer_request const& r, char const* buf,
                   std::shared_ptr<lt::disk_observer> o,
                   std::function<void(lt::storage_error const&)> handler,
                   lt::disk_job_flags_t flags) override {
    return inner_->async_write(st, r, buf, std::move(o), std::move(handler), flags);
  }

  void async_hash(lt::storage_index_t st, lt::piece_index_t piece, lt::span<lt::sha256_hash> v2,
                  lt::disk_job_flags_t flags, HashHandler handler) override {
    const bool v1 = bool(flags & lt::disk_interface::v1_hash);
    if (!v1 || v2.empty() || !provable(st, piece, v2.size())) {
      inner_->async_hash(st, piece, v2, flags, std::move(handler));
      return;
    }
    // The span points into the caller's vector, which its handler owns: valid until the
    // handler has run, so also through the second pass below.
    inner_->async_hash(
        st, piece, v2, flags & ~lt::disk_interface::v1_hash,
        [this, st, piece, v2, flags, handler = std::move(handler)](lt::piece_index_t p, lt::sha1_hash const&,
                                                                   lt::storage_error const& e) mutable {
          const lt::file_storage& fs = ti_->orig_files();
          const lt::file_index_t f = fs.file_index_at_piece(piece);
          if (!e && manifest::merkle_root({v2.data(), static_cast<std::size_t>(v2.size())}) == fs.root(f)) {
            if (counters_) ++counters_->proven;
            handler(p, ti_->hash_for_piece(piece), e);
            return;
          }
          // Not proven: the real SHA-1, so libtorrent fails the piece on its own terms.
          if (counters_) ++counters_->not_proven;
          inner_->async_hash(st, piece, v2, flags, std::move(handler));
          inner_->submit_jobs();
        });
  }
  void async_hash2(lt::storage_index_t st, lt::piece_index_t piece, int offset, lt::disk_job_flags_t flags,
                   std::function<void(lt::piece_index_t, lt::sha256_hash const&, lt::storage_error const&)>
                       handler) override {
    inner_->async_hash2(st, piece, offset, flags, std::move(handler));
  }
  void async_move_storage(
      lt::storage_index_t st, std::string p, lt::move_flags_t flags,
      std::function<void(lt::status_t, std::string const&, lt::storage_error const&)> handler) override {
    inner_->async_move_storage(st, std::move(p), flags, std::move(handler));
  }
  void async_release_files(lt::storage_index_t st, std::function<void()> handler) override {
    inner_->async_release_files(st, std::move(handler));
  }
  void async_check_files(lt::storage_index_t st, lt::add_torrent_params const* resume,
                         lt::aux::vector<std::string, lt::file_index_t> links,
                         std::function<void(lt::status_t, lt::storage_error const&)> handler) override {
    inner_->async_check_files(st, resume, std::move(links), std::move(handler));
  }
  void async_stop_torrent(lt::storage_index_t st, std::function<void()> handler) override {
    inner_->async_stop_torrent(st, std::move(handler));
  }
  void async_rename_file(
      lt::storage_index_t st, lt::file_index_t index, std::string name,
      std::function<void(std::string const&, lt::file_index_t, lt::storage_error const&)> handler) override {
    inner_->async_rename_file(st, index, std::move(name), std::move(handler));
  }
  void async_delete_files(lt::storage_index_t st, lt::remove_flags_t options,
                          std::function<void(lt::storage_error const&)> handler) override {
    inner_->async_delete_files(st, options, std::move(handler));
  }
  void async_set_file_priority(lt::storage_index_t st,
                               lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
                               std::function<void(lt::storage_error const&,
                                                  lt::aux::vector<lt::download_priority_t, lt::file_index_t>)>
                                   handler) override {
    inner_->async_set_file_priority(st, std::move(prio), std::move(handler));
  }
  void async_clear_piece(lt::storage_index_t st, lt::piece_index_t index,
                         std::function<void(lt::piece_index_t)> handler) override {
    inner_->async_clear_piece(st, index, std::move(handler));
  }
  void update_stats_counters(lt::counters& c) const override { inner_->update_stats_counters(c); }
  std::vector<lt::open_file_state> get_status(lt::storage_index_t st) const override {
    return inner_->get_status(st);
  }
  void abort(bool wait) override { inner_->abort(wait); }
  void submit_jobs() override { inner_->submit_jobs(); }
  void settings_updated() override { inner_->settings_updated(); }

 private:
  struct Storage {
    lt::storage_holder inner;  // releases the inner storage when this entry goes
    bool ours = false;         // the storage of ti_'s torrent
  };

  // True when `piece` of storage `st` is exactly one whole file of ti_ (starting at the
  // piece, no longer than the piece) with one v2 block hash per 16 KiB of it.
  bool provable(lt::storage_index_t st, lt::piece_index_t piece, long blocks) const {
    auto it = storages_.find(st);
    if (it == storages_.end() || !it->second.ours) return false;
    const lt::file_storage& fs = ti_->orig_files();
    if (piece < lt::piece_index_t(0) || piece >= fs.end_piece()) return false;
    const lt::file_index_t f = fs.file_index_at_piece(piece);
    if (fs.pad_file_at(f)) return false;
    const std::int64_t start = static_cast<std::int64_t>(static_cast<int>(piece)) * fs.piece_length();
    const std::int64_t size = fs.file_size(f);
    if (fs.file_offset(f) != start || size <= 0 || size > fs.piece_size(piece)) return false;
    if (fs.root(f).is_all_zeros()) return false;
    return blocks == (size + lt::default_block_size - 1) / lt::default_block_size;
  }

  std::unique_ptr<lt::disk_interface> inner_;
  std::shared_ptr<const lt::torrent_info> ti_;
  std::map<lt::storage_index_t, Storage> storages_;
  std::shared_ptr<V2FirstCounters> counters_;
};

}  // namespace

lt::disk_io_constructor_type v2_first_disk_io(std::shared_ptr<const lt::torrent_info> ti,
                                              std::shared_ptr<V2FirstCounters> counters) {
  return [ti = std::move(ti), counters = std::move(counters)](
             lt::io_context& ioc, lt::settings_interface const& sett, lt::counters& cnt) {
    return std::unique_ptr<lt::disk_interface>(
        std::make_unique<V2FirstDiskIo>(lt::default_disk_io_constructor(ioc, sett, cnt), ti, counters));
  };
}

}  // namespace ironstone::swarm

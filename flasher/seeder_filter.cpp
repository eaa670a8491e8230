#include "flasher/seeder_filter.h"

#include <libtorrent/error_code.hpp>
#include <libtorrent/peer_connection_handle.hpp>

#include "swarm/lan_settings.h"

namespace ironstone::flasher {
namespace {

class SeederFilterPeer final : public lt::peer_plugin {
 public:
  SeederFilterPeer(lt::peer_connection_handle pc, std::shared_ptr<const SeederFilterSwitch> s)
      : pc_(std::move(pc)), switch_(std::move(s)) {}
  bool on_have(lt::piece_index_t) override { return drop(); }
  bool on_bitfield(const lt::bitfield&) override { return drop(); }
  bool on_have_all() override { return drop(); }
  bool on_allowed_fast(lt::piece_index_t) override { return drop(); }
  bool on_suggest(lt::piece_index_t) override { return drop(); }
  void tick() override {
    if (!dropped_ || switch_->hiding()) return;
    dropped_ = false;  // what it holds was dropped: reconnected, it tells it again
    pc_.disconnect(lt::errors::make_error_code(lt::errors::timed_out_no_interest), lt::operation_t::bittorrent);
  }

 private:
  // The peer id arrives in the handshake, before any of the messages above.
  bool drop() {
    if (!switch_->hiding() || !swarm::is_seeder_peer_id(pc_.pid())) return false;
    dropped_ = true;
    return true;
  }
  lt::peer_connection_handle pc_;
  std::shared_ptr<const SeederFilterSwitch> switch_;
  bool dropped_ = false;
};

class SeederFilter final : public lt::torrent_plugin {
 public:
  explicit SeederFilter(std::shared_ptr<const SeederFilterSwitch> s) : switch_(std::move(s)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    return std::make_shared<SeederFilterPeer>(pc, switch_);
  }

 private:
  std::shared_ptr<const SeederFilterSwitch> switch_;
};

}  // namespace

TorrentPluginFactory seeder_filter_plugin(std::shared_ptr<const SeederFilterSwitch> s) {
  return [s = std::move(s)](const lt::torrent_handle&, lt::client_data_t) -> std::shared_ptr<lt::torrent_plugin> {
    return std::make_shared<SeederFilter>(s);
  };
}

}  // namespace ironstone::flasher

#include "flasher/seeder_filter.h"

#include <libtorrent/peer_connection_handle.hpp>

#include "swarm/lan_settings.h"

namespace ironstone::flasher {
namespace {

class SeederFilterPeer final : public lt::peer_plugin {
 public:
  SeederFilterPeer(lt::peer_connection_handle pc, std::shared_ptr<const std::atomic<bool>> hide)
      : pc_(std::move(pc)), hide_(std::move(hide)) {}

  bool on_have(lt::piece_index_t) override { return drop(); }
  bool on_bitfield(const lt::bitfield&) override { return drop(); }
  bool on_have_all() override { return drop(); }
  bool on_allowed_fast(lt::piece_index_t) override { return drop(); }
  bool on_suggest(lt::piece_index_t) override { return drop(); }

  // Shown again: a connection whose pieces were hidden is closed, the next one shows them.
  void tick() override {
    if (!dropped_ || closed_ || hide_->load()) return;
    closed_ = true;
    pc_.disconnect(lt::error_code(boost::system::errc::operation_canceled, boost::system::generic_category()),
                   lt::operation_t::bittorrent);
  }

 private:
  // The peer id arrives in the handshake, before any of the messages above.
  bool drop() {
    if (!hide_->load() || !swarm::is_seeder_peer_id(pc_.pid())) return false;
    dropped_ = true;
    return true;
  }
  lt::peer_connection_handle pc_;
  std::shared_ptr<const std::atomic<bool>> hide_;
  bool dropped_ = false;
  bool closed_ = false;
};

class SeederFilter final : public lt::torrent_plugin {
 public:
  explicit SeederFilter(std::shared_ptr<const std::atomic<bool>> hide) : hide_(std::move(hide)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    return std::make_shared<SeederFilterPeer>(pc, hide_);
  }

 private:
  std::shared_ptr<const std::atomic<bool>> hide_;
};

}  // namespace

std::shared_ptr<lt::torrent_plugin> seeder_filter_plugin(const lt::torrent_handle&, lt::client_data_t) {
  static const auto always = std::make_shared<const std::atomic<bool>>(true);
  return std::make_shared<SeederFilter>(always);
}

TorrentPluginFactory seeder_filter_plugin(std::shared_ptr<const std::atomic<bool>> hide) {
  return [hide = std::move(hide)](const lt::torrent_handle&, lt::client_data_t) -> std::shared_ptr<lt::torrent_plugin> {
    return std::make_shared<SeederFilter>(hide);
  };
}

}  // namespace ironstone::flasher

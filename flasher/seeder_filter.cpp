#include "flasher/seeder_filter.h"

#include <libtorrent/peer_connection_handle.hpp>

#include "swarm/lan_settings.h"

namespace ironstone::flasher {
namespace {

class SeederFilterPeer final : public lt::peer_plugin {
 public:
  explicit SeederFilterPeer(lt::peer_connection_handle pc) : pc_(std::move(pc)) {}
  bool on_have(lt::piece_index_t) override { return from_seeder(); }
  bool on_bitfield(const lt::bitfield&) override { return from_seeder(); }
  bool on_have_all() override { return from_seeder(); }
  bool on_allowed_fast(lt::piece_index_t) override { return from_seeder(); }
  bool on_suggest(lt::piece_index_t) override { return from_seeder(); }

 private:
  // The peer id arrives in the handshake, before any of the messages above.
  bool from_seeder() const { return swarm::is_seeder_peer_id(pc_.pid()); }
  lt::peer_connection_handle pc_;
};

class SeederFilter final : public lt::torrent_plugin {
 public:
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    return std::make_shared<SeederFilterPeer>(pc);
  }
};

}  // namespace

std::shared_ptr<lt::torrent_plugin> seeder_filter_plugin(const lt::torrent_handle&, lt::client_data_t) {
  return std::make_shared<SeederFilter>();
}

}  // namespace ironstone::flasher

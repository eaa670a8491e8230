// Hides the seeder's pieces from this node's libtorrent picker.
//
// A node fetches its stripe from the seeder over HTTP (chunk_fetch.h) and the rest
// from the other nodes. The seeder is still a BitTorrent peer (its tracker lists it,
// and it connects to the nodes), and libtorrent asked it for any wanted piece whenever
// a request slot was free. With this plugin on a torrent, every HAVE, bitfield,
// have-all, allowed-fast and suggest message from a peer whose peer id starts with
// swarm::kSeederPeerIdPrefix is dropped before libtorrent sees it: the seeder looks
// like a peer holding nothing, and is never asked for a piece.
//
// The hiding can be switched off (SeederFilterSwitch::show(): the HTTP store lied or
// stalled, and the seeder's BitTorrent side is the way left, flasher/swarm_download.h):
// then nothing is dropped any more, and a connection whose messages were dropped is
// closed at its next tick (within a second), so that the seeder, reconnected, tells its
// pieces again.
//
// Thread safety: the plugin runs on libtorrent's network thread; the switch is atomic,
// shown from any thread.
#pragma once

#include <libtorrent/extensions.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <atomic>
#include <functional>
#include <memory>

namespace ironstone::flasher {

class SeederFilterSwitch {
 public:
  void show() { hide_.store(false); }
  bool hiding() const { return hide_.load(); }

 private:
  std::atomic<bool> hide_{true};
};

using TorrentPluginFactory =
    std::function<std::shared_ptr<lt::torrent_plugin>(const lt::torrent_handle&, lt::client_data_t)>;
// For add_torrent_params::extensions: hides the seeder while `s` is hiding (shared with the plugin).
TorrentPluginFactory seeder_filter_plugin(std::shared_ptr<const SeederFilterSwitch> s);

}  // namespace ironstone::flasher

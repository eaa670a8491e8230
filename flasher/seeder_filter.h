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
// Thread safety: the plugin runs on libtorrent's network thread only.
#pragma once

#include <libtorrent/extensions.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <memory>

namespace ironstone::flasher {

// For lt::torrent_handle::add_extension / add_torrent_params::extensions.
std::shared_ptr<lt::torrent_plugin> seeder_filter_plugin(const lt::torrent_handle&, lt::client_data_t);

}  // namespace ironstone::flasher

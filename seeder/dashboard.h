// The live web dashboard served at "/": one self-contained HTML page (no external
// assets, works offline) that polls GET /v1/fleet every 2 s and shows the count per
// state, an estimate of when the rack is done (bytes left over the rack's rate), the
// rack's rate over time from the seeder vs from peers (inline SVG from the view's
// "rates"), one row per node (host name, state, step, progress bar, rate, bytes from
// seeder vs peers, the reason of a failed or stale node, wrapped), the event log, and
// a node's history (GET /v1/nodes/<id>/history) when its row is clicked — or at load
// for "/#node=<id>". Embedded in the binary.
#pragma once

#include <string_view>

namespace ironstone::seeder {

std::string_view dashboard_html();

}  // namespace ironstone::seeder

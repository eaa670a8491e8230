// The live web dashboard served at "/": one self-contained HTML page (no external
// assets) that polls GET /v1/fleet every 2 s and shows one row per node (state,
// step, progress bar, rate, bytes from seeder vs peers), a summary line and the
// event log. Embedded in the binary.
#pragma once

#include <string_view>

namespace ironstone::seeder {

std::string_view dashboard_html();

}  // namespace ironstone::seeder

// The names that cross the wire in paths and documents: board (and channel) names and
// release versions, with the release format's rules (docs/release-format.md). The manifest
// (manifest/manifest.h, valid_board_name) and the node reports (api/node_event.h) check
// them with the same functions.
// Thread safety: pure functions.
#pragma once

#include <string_view>

namespace ironstone::api {

// [a-z0-9-]{1,64}: boards and channels.
bool valid_board_name(std::string_view s);
// [A-Za-z0-9._+-]{1,64}, not starting with '.' (so never "." or ".."), no '/'.
bool valid_version_name(std::string_view s);

}  // namespace ironstone::api

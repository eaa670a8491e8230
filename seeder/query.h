// Server-side decoding of request targets: percent-decoding of path segments and
// query strings (application/x-www-form-urlencoded as sent by BitTorrent clients,
// whose info_hash and peer_id are 20 raw bytes, percent-encoded).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ironstone::seeder {

// Decodes %XX escapes; '+' becomes ' ' when plus_is_space. nullopt on a malformed
// escape ("%4", "%zz"). The result may hold any byte, including NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "a=1&b=%41&c" -> {{"a","1"},{"b","A"},{"c",""}}, in order, duplicates kept.
// nullopt on a malformed escape or more than max_params parameters.
std::optional<QueryParams> parse_query(std::string_view query, std::size_t max_params = 64);

// First value of `key`, or nullopt.
std::optional<std::string_view> find_param(const QueryParams& params, std::string_view key);

}  // namespace ironstone::seeder

// The machine-readable summaries of `ironstone-build --ci` (docs/ci-setup.md): one JSON object
// on stdout per command, nothing else there (human lines go to stderr), so a CI step can read
// it with jq. Every summary has "command" and "ok"; a failure is {"command", "ok": false,
// "error": "<the message>"}.
//
//   publish: {"command":"publish","ok":true,"dry_run":false,
//             "release":{"board","version","channel","sequence","dir"},
//             "sizes":{"image","stored","chunks","zero_ranges","new_chunk_files","reused_chunk_files"},
//             "hashes":{"image","manifest","info_hash_v2","source"},
//             "sbom":{"path","blake2b","bytes"} or null,
//             "audit":{"recipe":{"path","blake2b","bytes"} or null,"build_log":{…} or null},
//             "seal":{"checked","sealed","findings":[...],"note"},
//             "timings":{"total_s"}}
//   push:    {"command":"push","ok":true,"release":{"board","version"},"seeder","state",
//             "chunks_total","chunks_sent","firmware_sent","files_sent","bytes_sent",
//             "timings":{"total_s"}}
//   verify:  {"command":"verify","ok":…,"releases_checked","chunks_checked","problems":[…],"warnings":[…]}
//
// Hashes are lower-case hex BLAKE2b-256 ("manifest": of manifest.json's bytes, what the channel
// pointer pins). Thread safety: pure functions.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "builder/publish.h"
#include "builder/push.h"
#include "builder/verify.h"

namespace ironstone::builder {

nlohmann::json publish_summary(const PublishResult& r, const std::optional<std::filesystem::path>& sbom,
                               double seconds, bool dry_run);
nlohmann::json push_summary(const PushResult& r, const std::string& seeder, double seconds);
nlohmann::json verify_summary(const VerifyReport& r);
nlohmann::json failure_summary(const std::string& command, const std::string& message);

// The SBOM that goes with an image: `given` when set (must exist), else IMAGE.spdx.json when it
// exists (where `gold` writes it), else none. Throws kInput when `given` does not exist.
std::optional<std::filesystem::path> find_sbom(const std::string& image, const std::string& given);

}  // namespace ironstone::builder

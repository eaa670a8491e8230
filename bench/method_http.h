// HTTP unicast (the original design): the NAS serves the zstd-compressed image with
// `ironstone-bench serve` (bench/http_serve.h); every node fetches it with curl and
// decompresses it into its target (zstd checks the frame's content checksum), all at once.
#pragma once

#include <functional>

#include "bench/method.h"
#include "bench/proc.h"

namespace ironstone::bench {

// Starts `node_cmd(host, target)` (a bash pipeline) on every node at once and times each
// node by its exit (status 0 = done); shared with the multicast runner.
void run_node_pipelines(const RackNet& rack, const BenchEnv& env, MethodResult& r, int timeout,
                        const std::function<std::string(const Host&, const std::filesystem::path&)>& node_cmd,
                        std::vector<std::filesystem::path>* targets, Clock::time_point t0, std::vector<Child>& kids);

}  // namespace ironstone::bench

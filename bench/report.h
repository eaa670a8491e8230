// Results of a rack run: the terminal table, the JSON file and the SVG plot (completion
// time of the last node against N, one line per method, plus the physical floor).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bench/method.h"

namespace ironstone::bench {

struct RunInfo {
  std::string command, mode, link, nas_link, started_utc, host, load_before;
  int cpus = 0;
  Image image;
};

// The verdict line on CPU ("CPU-bound: machine 97% busy") for a result.
std::string cpu_verdict(const MethodResult& r);

void print_table(const RunInfo& info, const std::vector<MethodResult>& results);
void write_json(const std::filesystem::path& path, const RunInfo& info, const std::vector<MethodResult>& results);
void write_svg(const std::filesystem::path& path, const RunInfo& info, const std::vector<MethodResult>& results);

}  // namespace ironstone::bench

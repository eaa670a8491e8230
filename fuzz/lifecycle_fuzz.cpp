// Fuzz target: the seeder's strict parser of first-boot lifecycle bodies (api/node_event.h
// parse_lifecycle_report), which reads what any host on the LAN POSTs to
// /v1/nodes/<node-id>/lifecycle. Any input must either parse or throw ironstone::Error;
// nothing else. A report that parses must hold the documented invariants (docs/http-api.md,
// "Node lifecycle"), go into a Fleet after a flash, come out of the view, the history and
// the CLI table, and parse again from its own history entry to the same report.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/error.h"
#include "seeder/fleet.h"
#include "seeder/fleet_view.h"
#include "api/node_order.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ironstone::seeder;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  LifecycleReport r;
  try {
    r = parse_lifecycle_report("node-dca632010203", input);
  } catch (const ironstone::Error&) {
    return 0;
  }
  if (input.size() > ironstone::api::kMaxLifecycleBytes) std::abort();
  if (r.state != "booted" && r.state != "joined" && r.state != "failed" && r.state != "reflashing") std::abort();
  if (r.state == "reflashing" && !ironstone::api::valid_order_id(r.order)) std::abort();
  if (r.reason.size() > ironstone::api::kMaxLifecycleReasonBytes || r.stage.size() > 32 || r.hostname.size() > 253) std::abort();
  if (r.state == "failed" && (r.stage.empty() || r.reason.empty())) std::abort();

  Fleet fleet(Fleet::Options{});
  NodeEvent done;
  done.node_id = r.node_id;
  done.step = "linger";
  done.state = "done";
  try {
    fleet.record(done);
    fleet.report(r);
  } catch (const ironstone::Error&) {
    std::abort();
  }
  const nlohmann::json view = fleet.view();
  if (view.at("nodes").at(0).at("state") != r.state) std::abort();
  (void)view.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)format_fleet(view);
  const auto history = fleet.history(r.node_id);
  if (!history || history->at("history").size() != 2) std::abort();

  nlohmann::json entry = history->at("history").at(1);
  entry.erase("time");
  entry.erase("kind");
  for (const char* key : {"hostname", "board", "release", "stage", "reason"}) {
    if (entry.at(key) == "") entry.erase(key);
  }
  try {
    const LifecycleReport again = parse_lifecycle_report(r.node_id, entry.dump());
    if (again.state != r.state || again.hostname != r.hostname || again.board != r.board ||
        again.release != r.release || again.sequence != r.sequence || again.stage != r.stage ||
        again.reason != r.reason || again.order != r.order) {
      std::abort();
    }
  } catch (const ironstone::Error&) {
    std::abort();  // the entry serializes no larger than the input (escapes are kept or shortened)
  }
  return 0;
}

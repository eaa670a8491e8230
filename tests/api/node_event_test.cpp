// The node reports as the seeder reads them and the flasher writes them (api/node_event.h):
// strict parsing that names the field, and the bodies serialize_node_event() and
// serialize_lifecycle_report() write parse back to the same report.
#include "api/node_event.h"

#include <gtest/gtest.h>

#include <string>

#include "api/errc.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::api {
namespace {

const std::string kWorking =
    R"({"mac":"DC:A6:32:01:02:03","board":"rpi5","release":"2026.11.1","step":"download",
  "state":"working","progress":0.25,"bytes_done":100,"bytes_total":400,"bytes_from_seeder":60,
  "bytes_from_peers":40,"rate":1048576.5,"error":""})";
const std::string kBooted =
    R"({"state":"booted","hostname":"rack1-n01","board":"rpi5","release":"2026.11.1","sequence":12})";
const std::string kFailedK3s =
    R"({"state":"failed","stage":"k3s","reason":"k3s.service failed to start","hostname":"rack1-n01",)"
    R"("board":"rpi5","release":"2026.11.1","sequence":12})";

TEST(NodeEvent, ParsesEveryField) {
  const NodeEvent e = parse_node_event("rack1-n03", kWorking);
  EXPECT_EQ(e.node_id, "rack1-n03");
  EXPECT_EQ(e.mac, "dc:a6:32:01:02:03");
  EXPECT_EQ(e.board, "rpi5");
  EXPECT_EQ(e.release, "2026.11.1");
  EXPECT_EQ(e.step, "download");
  EXPECT_EQ(e.state, "working");
  EXPECT_DOUBLE_EQ(e.progress, 0.25);
  EXPECT_EQ(e.bytes_done, 100u);
  EXPECT_EQ(e.bytes_total, 400u);
  EXPECT_EQ(e.bytes_from_seeder, 60u);
  EXPECT_EQ(e.bytes_from_peers, 40u);
  EXPECT_DOUBLE_EQ(e.rate, 1048576.5);
}

TEST(NodeEvent, StrictParsingNamesTheField) {
  const auto message = [](const std::string& body) {
    try {
      parse_node_event("n1", body);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(Errc::kEvent));
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(R"({"step":"x","state":"working","bogus":1})"), "event: unknown field 'bogus'");
  EXPECT_EQ(message(R"({"step":"x","state":"working","step":"y"})"), "event: duplicate field 'step'");
  EXPECT_EQ(message(R"({"state":"working"})"), "event: field 'step': missing");
  EXPECT_EQ(message(R"({"step":"x","state":"sleeping"})"),
            "event: field 'state': must be \"working\", \"done\" or \"failed\"");
  EXPECT_NE(message(R"({"step":"x","state":"working","progress":1.5})").find("field 'progress'"),
            std::string::npos);
  EXPECT_EQ(message(R"({"step":"x","state":"working","bytes_done":-1})"),
            "event: field 'bytes_done': must be a non-negative integer");
  EXPECT_EQ(message(R"({"step":"x","state":"working","mac":"nope"})"),
            "event: field 'mac': must look like dc:a6:32:01:02:03");
  EXPECT_EQ(message(R"({"step":"x","state":"working","node_id":"n2"})"),
            "event: field 'node_id': does not match the node id in the URL");
  EXPECT_EQ(message(R"({"step":"x","state":"working","board":{"a":1}})"),
            "event: nested values are not allowed");
  EXPECT_NE(message(R"({"step":"x","state":"working"} trailing)").find("malformed JSON"), std::string::npos);
  EXPECT_EQ(message(R"("step")"), "event: body must be a JSON object");
  EXPECT_EQ(message(R"({"step":"x","state":"working","bytes_done":5,"bytes_total":4})"),
            "event: field 'bytes_done': exceeds bytes_total");
  EXPECT_EQ(message(R"({"step":"x","state":"working","banned_peers":")" + std::string(1025, 'x') + "\"}"),
            "event: field 'banned_peers': longer than 1024 bytes");
  EXPECT_EQ(message(R"({"step":"x","state":"working","bytes_from_banned_peers":-1})"),
            "event: field 'bytes_from_banned_peers': must be a non-negative integer");
}

std::string lifecycle_message(const std::string& body) {
  try {
    parse_lifecycle_report("n1", body);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kEvent)) << e.what();
    return e.what();
  }
  return "parsed";
}

TEST(LifecycleReport, ParsesTheContractsBodies) {
  const LifecycleReport b = parse_lifecycle_report("node-dca632010203", kBooted);
  EXPECT_EQ(b.node_id, "node-dca632010203");
  EXPECT_EQ(b.state, "booted");
  EXPECT_EQ(b.hostname, "rack1-n01");
  EXPECT_EQ(b.board, "rpi5");
  EXPECT_EQ(b.release, "2026.11.1");
  EXPECT_EQ(b.sequence, 12u);
  const LifecycleReport f = parse_lifecycle_report("n1", kFailedK3s);
  EXPECT_EQ(f.stage, "k3s");
  EXPECT_EQ(f.reason, "k3s.service failed to start");
  EXPECT_EQ(parse_lifecycle_report("n1", R"({"state":"joined"})").hostname, "");
}

TEST(LifecycleReport, StrictParsingNamesTheField) {
  EXPECT_EQ(lifecycle_message(R"({"state":"up"})"), "lifecycle: field 'state': must be \"booted\", \"joined\", \"failed\" or \"reflashing\"");
  EXPECT_EQ(lifecycle_message(R"({"hostname":"a"})"), "lifecycle: field 'state': missing");
  EXPECT_EQ(lifecycle_message(R"({"state":"booted","hostname":"a b"})"),
            "lifecycle: field 'hostname': must be a host name [A-Za-z0-9.-]{1,253}");
  EXPECT_EQ(lifecycle_message(R"({"state":"booted","sequence":-1})"),
            "lifecycle: field 'sequence': must be a non-negative integer");
  EXPECT_EQ(lifecycle_message(R"({"state":"booted","release":"a/b"})"),
            "lifecycle: field 'release': must match [A-Za-z0-9._+-]+");
  EXPECT_EQ(lifecycle_message(R"({"state":"booted","uptime":3})"), "lifecycle: unknown field 'uptime'");
  EXPECT_EQ(lifecycle_message(R"({"state":"booted","state":"joined"})"), "lifecycle: duplicate field 'state'");
  EXPECT_EQ(lifecycle_message(R"({"state":"booted","hostname":{"a":1}})"), "lifecycle: nested values are not allowed");
  EXPECT_EQ(lifecycle_message(R"(["booted"])"), "lifecycle: body must be a JSON object");
  EXPECT_EQ(lifecycle_message(R"("booted")"), "lifecycle: body must be a JSON object");
  EXPECT_EQ(lifecycle_message(R"({"state":"failed","reason":"x"})"),
            "lifecycle: field 'stage': missing (required with \"failed\")");
  EXPECT_EQ(lifecycle_message(R"({"state":"failed","stage":"k3s"})"),
            "lifecycle: field 'reason': missing (required with \"failed\")");
  EXPECT_EQ(lifecycle_message(R"({"state":"failed","stage":"k3s","reason":")" + std::string(1025, 'x') + "\"}"),
            "lifecycle: field 'reason': longer than 1024 bytes");
  EXPECT_ERROR_EQ(parse_lifecycle_report("n1", std::string(4097, ' ')), Errc::kTooLarge,
                  "lifecycle: body larger than 4096 bytes");
  EXPECT_NE(lifecycle_message("{").find("lifecycle: malformed JSON"), std::string::npos);
}


bool same(const NodeEvent& a, const NodeEvent& b) {
  return a.node_id == b.node_id && a.mac == b.mac && a.board == b.board && a.release == b.release &&
         a.step == b.step && a.state == b.state && a.progress == b.progress && a.bytes_done == b.bytes_done &&
         a.bytes_total == b.bytes_total && a.bytes_from_seeder == b.bytes_from_seeder &&
         a.bytes_from_peers == b.bytes_from_peers && a.bytes_from_banned_peers == b.bytes_from_banned_peers &&
         a.banned_peers == b.banned_peers && a.rate == b.rate && a.error == b.error;
}

TEST(NodeEvent, WhatTheFlasherSendsParsesBackToTheSameEvent) {
  NodeEvent e;
  e.node_id = "node-dca632010203";
  e.mac = "dc:a6:32:01:02:03";
  e.board = "rpi5";
  e.release = "2026.11.1";
  e.step = "verify";
  e.state = "failed";
  e.progress = 0.5;
  e.bytes_done = 100;
  e.bytes_total = 400;
  e.bytes_from_seeder = 60;
  e.bytes_from_peers = 40;
  e.bytes_from_banned_peers = 16384;
  e.banned_peers = "10.0.0.7:6881 (sent data that failed the piece hash)";
  e.rate = 1048576.5;
  e.error = "chunk 7: hash mismatch";
  EXPECT_TRUE(same(parse_node_event(e.node_id, serialize_node_event(e)), e));
}

TEST(NodeEvent, TheBodyLeavesOutEmptyOptionalFieldsAndTheNodeId) {
  NodeEvent e;
  e.node_id = "n1";
  e.step = "board";
  e.state = "working";
  EXPECT_EQ(serialize_node_event(e),
            R"({"bytes_done":0,"bytes_from_banned_peers":0,"bytes_from_peers":0,"bytes_from_seeder":0,)"
            R"("bytes_total":0,"progress":0.0,)"
            R"("rate":0.0,"state":"working","step":"board"})");
  EXPECT_TRUE(same(parse_node_event("n1", serialize_node_event(e)), e));
}

TEST(NodeEvent, TheRecordHasEveryField) {
  const NodeEvent e = parse_node_event("n1", R"({"step":"scan","state":"working"})");
  EXPECT_EQ(to_json(e).dump(),
            R"({"banned_peers":"","board":"","bytes_done":0,"bytes_from_banned_peers":0,"bytes_from_peers":0,)"
            R"("bytes_from_seeder":0,"bytes_total":0,"error":"",)"
            R"("mac":"","node_id":"n1","progress":0.0,"rate":0.0,"release":"","state":"working","step":"scan"})");
}

TEST(NodeEvent, ABadNodeIdIsRefused) {
  EXPECT_ERROR_EQ(parse_node_event("-n1", R"({"step":"x","state":"working"})"), Errc::kEvent, "event: bad node id");
  EXPECT_TRUE(valid_node_id("rack1-n03"));
  EXPECT_FALSE(valid_node_id(std::string(65, 'a')));
}

TEST(LifecycleReport, WhatFirstBootSendsParsesBackToTheSameReport) {
  for (const std::string& body : {kBooted, kFailedK3s, std::string(R"({"state":"joined"})")}) {
    const LifecycleReport r = parse_lifecycle_report("n1", body);
    const LifecycleReport again = parse_lifecycle_report("n1", serialize_lifecycle_report(r));
    EXPECT_EQ(to_json(again), to_json(r)) << body;
  }
  EXPECT_EQ(serialize_lifecycle_report(parse_lifecycle_report("n1", R"({"state":"joined"})")), R"({"state":"joined"})");
}

}  // namespace
}  // namespace ironstone::api

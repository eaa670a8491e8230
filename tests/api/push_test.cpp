// The push documents (api/push.h): the bundle round-trips byte for byte and its parser refuses
// every malformed framing naming the section; the status round-trips and refuses bad names.
#include "api/push.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/errc.h"
#include "api/limits.h"
#include "api/paths.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::api {
namespace {

PushBundle sample() {
  PushBundle b;
  b.board = "rpi5";
  b.channel = "stable";
  b.version = "2026.11.1";
  b.manifest = "{\"board\":\"rpi5\"}\n";
  b.signature = "untrusted comment: x\nRWQ\ntrusted comment: y\nZZZ\n";
  b.torrent = std::string("d4:info\0\xff" "e", 10);
  return b;
}

TEST(PushBundle, RoundTripsByteForByteWithAndWithoutPointer) {
  PushBundle b = sample();
  EXPECT_EQ(parse_push_bundle(serialize_push_bundle(b), "t"), b);
  b.pointer = "{\"channel\":\"stable\"}\n";
  b.pointer_signature = "sig\n";
  const std::string text = serialize_push_bundle(b);
  EXPECT_EQ(parse_push_bundle(text, "t"), b);
  EXPECT_EQ(serialize_push_bundle(parse_push_bundle(text, "t")), text);
}

TEST(PushBundle, MalformedFramingIsRefusedNamingTheSection) {
  const std::string good = serialize_push_bundle(sample());
  EXPECT_ERROR_HAS(parse_push_bundle("ironstone-push 2\n", "b"), Errc::kPush, "b: does not start with");
  EXPECT_ERROR_HAS(parse_push_bundle(good + "x", "b"), Errc::kPush, "unexpected bytes after the last section");
  EXPECT_ERROR_HAS(parse_push_bundle(good.substr(0, good.size() - 1), "b"), Errc::kPush,
                   "section 'torrent': 10 bytes announced, 9 left");
  std::string zero = good;
  zero.replace(zero.find("manifest 17"), 11, "manifest 017");
  EXPECT_ERROR_HAS(parse_push_bundle(zero, "b"), Errc::kPush, "section 'manifest': bad length '017'");
  const std::string huge = "ironstone-push 1\nboard rpi5\nchannel stable\nversion 1\nmanifest 99999999999\n";
  EXPECT_ERROR_HAS(parse_push_bundle(huge, "b"), Errc::kPush, "section 'manifest': length 99999999999 exceeds");
  EXPECT_ERROR_HAS(parse_push_bundle("ironstone-push 1\nboard ../x\n", "b"), Errc::kPush, "'board': not a valid");
  EXPECT_ERROR_HAS(parse_push_bundle("ironstone-push 1\nchannel x\n", "b"), Errc::kPush, "expected 'board ...'");
}

TEST(PushBundle, OverTheLimitIsTooLarge) {
  const std::string big(kMaxPushBundleBytes + 1, 'x');
  EXPECT_ERROR_HAS(parse_push_bundle(big, "b"), Errc::kTooLarge, "exceed the push bundle limit");
}

TEST(PushStatus, RoundTripsAndRefusesBadNames) {
  const PushStatus s{"rpi5", "1.0", "pending", {std::string(64, 'a')}, {"u-boot.img"}, {"build.log"}};
  EXPECT_EQ(parse_push_status(serialize_push_status(s), "s"), s);
  // A seeder older than missing_files sends none: nothing to send.
  EXPECT_TRUE(parse_push_status(R"({"board":"rpi5","version":"1","state":"pending","missing_chunks":[],)"
                                R"("missing_firmware":[]})", "s").missing_files.empty());
  EXPECT_ERROR_HAS(parse_push_status(R"({"board":"rpi5","version":"1","state":"pending","missing_chunks":[],)"
                                     R"("missing_firmware":[],"missing_files":["/etc/passwd"]})", "s"),
                   Errc::kPush, "field 'missing_files[0]': not a valid name");
  EXPECT_ERROR_HAS(parse_push_status(R"({"board":"rpi5","version":"1","state":"lost","missing_chunks":[],)"
                                     R"("missing_firmware":[]})", "s"),
                   Errc::kPush, "field 'state'");
  EXPECT_ERROR_HAS(parse_push_status(R"({"board":"rpi5","version":"1","state":"pending","missing_chunks":["../x"],)"
                                     R"("missing_firmware":[]})", "s"),
                   Errc::kPush, "field 'missing_chunks[0]': not a valid name");
}

TEST(PushPaths, UploadsAreUnderBoardAndVersion) {
  const std::string hex(64, 'b');
  EXPECT_EQ(upload_path("rpi5", "1.0"), "/v1/uploads/rpi5/1.0");
  EXPECT_EQ(upload_chunk_path("rpi5", "1.0", hex), "/v1/uploads/rpi5/1.0/chunks/" + hex + ".zst");
  EXPECT_EQ(upload_firmware_path("rpi5", "1.0", "fw.bin"), "/v1/uploads/rpi5/1.0/firmware/fw.bin");
  EXPECT_EQ(upload_file_path("rpi5", "1.0", "sbom.spdx.json"), "/v1/uploads/rpi5/1.0/files/sbom.spdx.json");
  EXPECT_EQ(upload_commit_path("rpi5", "1.0"), "/v1/uploads/rpi5/1.0/commit");
}

}  // namespace
}  // namespace ironstone::api

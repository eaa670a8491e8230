// Pushing a release to a running seeder (builder/push.h -> seeder/upload.h), over real HTTP on
// loopback: the seeder takes a release only when it verifies against its store's keys, writes it
// whole or not at all, seeds it at once, asks only for what it lacks, and checks the upload token.
#include "builder/push.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "api/paths.h"
#include "builder/errc.h"
#include "builder/verify.h"
#include "swarm/http_client.h"
#include "tests/builder/builder_testing.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

namespace fs = std::filesystem;
using builder::testing::snapshot;
using ironstone::testing::read_text;
using ironstone::testing::test_key;
using ironstone::testing::write_file;
using ironstone::testing::write_text;
using ::testing::HasSubstr;

class Push : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(nas() / "keys");
    write_text(nas() / "keys" / "release.pub", manifest::serialize_public_key(key.public_key()));
  }
  fs::path ci() const { return dir.path() / "ci-store"; }
  fs::path nas() const { return dir.path() / "nas-store"; }

  builder::PublishResult publish(const manifest::SecretKey& k, const std::string& version = "1.0",
                                 std::uint64_t seed = 1) {
    write_file(dir.path() / "gold.img", builder::testing::sample_image(seed));
    auto o = builder::testing::options(ci(), version);
    o.expires = 4102444800;  // 2100
    return builder::publish((dir.path() / "gold.img").string(), k, o);
  }
  // A release with the whole audit trail: an SBOM, the recipe and the build log.
  builder::PublishResult publish_with_audit_trail() {
    write_file(dir.path() / "gold.img", builder::testing::sample_image(1));
    write_text(dir.path() / "gold.img.spdx.json", R"({"spdxVersion":"SPDX-2.3","packages":[]})");
    write_text(dir.path() / "rpi5.yaml", "board: rpi5\n");
    write_text(dir.path() / "gold.log", "gold: step 1\ngold: step 2\n");
    auto o = builder::testing::options(ci(), "1.0");
    o.expires = 4102444800;  // 2100
    o.sbom = dir.path() / "gold.img.spdx.json";
    o.recipe = dir.path() / "rpi5.yaml";
    o.build_log = dir.path() / "gold.log";
    return builder::publish((dir.path() / "gold.img").string(), key, o);
  }
  void start_seeder(const std::string& token_file = {}) {
    SeederConfig c = testing::loopback_config(nas(), true);
    c.fleet_db = dir.path() / "fleet.sqlite";  // outside the store: snapshots see only the store
    c.upload_token_file = token_file;
    seeder = std::make_unique<Seeder>(c);
    seeder->start();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(seeder->http_port()); }
  builder::PushOptions push_options() const {
    builder::PushOptions o;
    o.store = ci();
    o.seeder = url();
    o.timeout = std::chrono::seconds(30);
    return o;
  }
  // One request of the upload protocol by hand, as a client other than push_release() sends it.
  swarm::HttpResponse upload_request(const std::string& method, const std::string& path,
                                     const std::string& body = {}) const {
    swarm::RequestOptions o;
    o.content_type = "application/octet-stream";
    return swarm::http_send(swarm::parse_url(url() + path), method, body, o);
  }
  // POST /v1/uploads with the bundle of a release of the CI store (default: its highest).
  swarm::HttpResponse begin_upload(const std::optional<std::string>& version = {}) const {
    const builder::Store store(ci());
    const auto bundle = builder::make_push_bundle(store, builder::select_push_release(store, {}, version));
    return upload_request("POST", api::kUploadsPath, api::serialize_push_bundle(bundle));
  }
  // What the store shows, without the lock file a commit may create.
  builder::testing::Snapshot store_view() const {
    auto s = snapshot(nas());
    s.erase(".lock");
    return s;
  }

  ironstone::testing::TempDir dir;
  manifest::SecretKey key = test_key();
  std::unique_ptr<Seeder> seeder;
};

TEST_F(Push, VerifiedReleaseIsStoredWholeAndSeededAtOnce) {
  const auto published = publish(key);
  start_seeder();
  ASSERT_EQ(seeder->swarm()->torrent_count(), 0u);
  const builder::PushResult r = builder::push_release(push_options());
  EXPECT_EQ(r.state, "committed");
  EXPECT_EQ(r.chunks_sent, published.manifest.chunks.size());
  EXPECT_EQ(r.chunks_total, r.chunks_sent);
  for (const char* f : {"manifest.json", "manifest.json.minisig", "release.torrent"})
    EXPECT_EQ(read_text(nas() / "releases/rpi5/1.0" / f), read_text(ci() / "releases/rpi5/1.0" / f)) << f;
  EXPECT_EQ(read_text(nas() / "channels/rpi5/stable.json"), read_text(ci() / "channels/rpi5/stable.json"));
  EXPECT_FALSE(fs::exists(nas() / ".uploads"));
  EXPECT_EQ(seeder->swarm()->torrent_count(), 1u);  // seeding before the push returned

  builder::VerifyOptions v;
  v.store = nas();
  const auto report = builder::verify_store(v);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());

  const builder::PushResult again = builder::push_release(push_options());
  EXPECT_EQ(again.state, "present");
  EXPECT_EQ(again.chunks_sent, 0u);
}

TEST_F(Push, TheSbomRecipeAndBuildLogArriveWithTheReleaseAndVerify) {
  const auto published = publish_with_audit_trail();
  ASSERT_TRUE(published.manifest.sbom && published.manifest.provenance.recipe && published.manifest.provenance.build_log);
  start_seeder();
  const builder::PushResult r = builder::push_release(push_options());
  EXPECT_EQ(r.state, "committed");
  EXPECT_EQ(r.files_sent, 3u);
  for (const char* f : {"sbom.spdx.json", "recipe.yaml", "build.log"})
    EXPECT_EQ(read_text(nas() / "releases/rpi5/1.0" / f), read_text(ci() / "releases/rpi5/1.0" / f)) << f;
  builder::VerifyOptions v;
  v.store = nas();
  const auto report = builder::verify_store(v);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  // ... and the seeder serves them.
  const auto log = swarm::http_get(swarm::parse_url(url() + "/v1/releases/rpi5/1.0/build.log"), {});
  EXPECT_EQ(log.body, "gold: step 1\ngold: step 2\n");
}

TEST_F(Push, ATamperedBuildLogIsRefusedNamingItAndNothingIsLeftInTheStore) {
  publish_with_audit_trail();
  write_text(ci() / "releases/rpi5/1.0/build.log", "gold: step 1\ngold: step X\n");  // same size
  start_seeder();
  const auto before = store_view();
  EXPECT_ERROR_THAT(builder::push_release(push_options()), builder::Errc::kPush, "400 naming the file",
                    ::testing::AllOf(HasSubstr("release file build.log"), HasSubstr("HTTP 400"),
                                     HasSubstr("BLAKE2b-256 does not match the signed hash")));
  EXPECT_STORE_UNCHANGED(before, nas());
  EXPECT_EQ(seeder->swarm()->torrent_count(), 0u);
}

TEST_F(Push, CommitWaitsForTheReleaseFilesTheManifestLists) {
  const auto published = publish_with_audit_trail();
  start_seeder();
  const auto begun = begin_upload();
  ASSERT_EQ(begun.status, 200u) << begun.body;
  EXPECT_THAT(api::parse_push_status(begun.body, "status").missing_files,
              ::testing::ElementsAre("sbom.spdx.json", "recipe.yaml", "build.log"));
  for (const auto& c : published.manifest.chunks) {
    const std::string body = read_text(ci() / manifest::layout::chunk_relpath(c.hash));
    ASSERT_EQ(upload_request("PUT", api::upload_chunk_path("rpi5", "1.0", c.hash.hex()), body).status, 204u);
  }
  const auto commit = upload_request("POST", api::upload_commit_path("rpi5", "1.0"));
  EXPECT_EQ(commit.status, 409u);
  EXPECT_THAT(commit.body, HasSubstr("0 chunks, 0 firmware and 3 release files missing (first file: sbom.spdx.json)"));
  EXPECT_FALSE(fs::exists(nas() / "releases/rpi5/1.0"));
  const auto stray = upload_request("PUT", api::upload_file_path("rpi5", "1.0", "notes.txt"), "x");
  EXPECT_EQ(stray.status, 404u);  // only the names of api::kReleaseFiles have a route
}

TEST_F(Push, ReleaseSignedByAnUntrustedKeyIsRefusedAndNothingIsWritten) {
  publish(test_key(0x77));
  start_seeder();
  const auto before = store_view();
  EXPECT_ERROR_THAT(builder::push_release(push_options()), builder::Errc::kPush, "403 refused",
                    ::testing::AllOf(HasSubstr("HTTP 403"), HasSubstr("refused"), HasSubstr(url())));
  EXPECT_STORE_UNCHANGED(before, nas());
}

TEST_F(Push, ForgedManifestIsRefused) {
  publish(key);
  // One signed field changed after signing: the signature no longer covers these bytes.
  const fs::path m = ci() / "releases/rpi5/1.0/manifest.json";
  std::string text = read_text(m);
  text.replace(text.find("\"sequence\":1"), 12, "\"sequence\":9");
  write_text(m, text);
  start_seeder();
  const auto before = store_view();
  EXPECT_ERROR_THAT(builder::push_release(push_options()), builder::Errc::kPush, "403 signature",
                    ::testing::AllOf(HasSubstr("HTTP 403"), HasSubstr("signature")));
  EXPECT_STORE_UNCHANGED(before, nas());
}

TEST_F(Push, UnsignedReleaseIsRefused) {
  publish(key);
  fs::remove(ci() / "releases/rpi5/1.0/manifest.json.minisig");
  write_text(ci() / "releases/rpi5/1.0/manifest.json.minisig", "not a signature\n");
  start_seeder();
  const auto before = store_view();
  EXPECT_ERROR_HAS(builder::push_release(push_options()), builder::Errc::kPush, "HTTP 403");
  EXPECT_STORE_UNCHANGED(before, nas());
}

TEST_F(Push, CorruptedChunkIsRefusedNamingItAndNothingIsLeftInTheStore) {
  const auto published = publish(key);
  const auto& chunk = published.manifest.chunks.back();
  const fs::path file = ci() / manifest::layout::chunk_relpath(chunk.hash);
  auto bytes = ironstone::testing::read_file(file);
  bytes[bytes.size() / 2] ^= 0x01;  // same size, other bytes
  write_file(file, bytes);
  start_seeder();
  const auto before = store_view();
  EXPECT_ERROR_THAT(builder::push_release(push_options()), builder::Errc::kPush, "400 naming the chunk",
                    ::testing::AllOf(HasSubstr("chunk " + chunk.hash.hex()), HasSubstr("HTTP 400"),
                                     HasSubstr(file.string())));
  EXPECT_STORE_UNCHANGED(before, nas());
  EXPECT_EQ(seeder->swarm()->torrent_count(), 0u);
}

TEST_F(Push, InterruptedPushResumesSendingOnlyTheMissingChunks) {
  const auto published = publish(key);
  start_seeder();
  // A first push that stopped after one chunk.
  const auto begun = begin_upload();
  ASSERT_EQ(begun.status, 200u) << begun.body;
  const auto status = api::parse_push_status(begun.body, "status");
  ASSERT_EQ(status.missing_chunks.size(), published.manifest.chunks.size());
  const std::string first = status.missing_chunks.front();
  const auto hash = Hash256::from_hex(first).value();
  const std::string body = read_text(ci() / manifest::layout::chunk_relpath(hash));
  const auto put = upload_request("PUT", api::upload_chunk_path("rpi5", "1.0", first), body);
  ASSERT_EQ(put.status, 204u) << put.body;
  EXPECT_FALSE(fs::exists(nas() / "releases/rpi5/1.0"));  // staged, not visible

  const builder::PushResult r = builder::push_release(push_options());
  EXPECT_EQ(r.state, "committed");
  EXPECT_EQ(r.chunks_sent, published.manifest.chunks.size() - 1);
  EXPECT_EQ(read_text(nas() / manifest::layout::chunk_relpath(hash)), body);
}

TEST_F(Push, UploadTokenIsRequiredWhenTheSeederHasOne) {
  publish(key);
  write_text(dir.path() / "upload-token", "s3cret-token-0123456789\n");
  start_seeder((dir.path() / "upload-token").string());
  const auto before = store_view();
  auto o = push_options();
  EXPECT_ERROR_THAT(builder::push_release(o), builder::Errc::kPush, "401 without a token",
                    ::testing::AllOf(HasSubstr("HTTP 401"), HasSubstr("upload token")));
  o.token = "s3cret-token-wrong-456789";
  EXPECT_ERROR_THAT(builder::push_release(o), builder::Errc::kPush, "401 wrong token",
                    ::testing::AllOf(HasSubstr("HTTP 401"), HasSubstr("wrong upload token")));
  EXPECT_STORE_UNCHANGED(before, nas());
  o.token = "s3cret-token-0123456789";
  EXPECT_EQ(builder::push_release(o).state, "committed");
}

TEST_F(Push, OversizedChunkIsRefusedBeforeItsBodyIsRead) {
  start_seeder();
  const std::string target = api::upload_chunk_path("rpi5", "1.0", std::string(64, 'a'));
  const std::string raw = "PUT " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(api::kMaxPushChunkBytes + 1) + "\r\n\r\n";
  EXPECT_EQ(testing::raw_status(testing::raw_exchange(seeder->http_port(), raw)), 413);
  // Other routes keep the small limit.
  const std::string events = "POST " + api::node_events_path("n1") + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                             std::to_string(1024 * 1024) + "\r\n\r\n";
  EXPECT_EQ(testing::raw_status(testing::raw_exchange(seeder->http_port(), events)), 413);
}

TEST_F(Push, OnlyFourUploadsAreOpenAtOnce) {
  for (int i = 1; i <= 5; ++i) publish(key, "1." + std::to_string(i), static_cast<std::uint64_t>(i));
  start_seeder();
  for (int i = 1; i <= 5; ++i) {
    const auto r = begin_upload("1." + std::to_string(i));
    EXPECT_EQ(r.status, i <= 4 ? 200u : 503u) << i << ": " << r.body;
    if (i == 5) {
      EXPECT_THAT(r.body, HasSubstr("4 uploads already open"));
    }
  }
  // Aborting one frees its slot.
  EXPECT_EQ(upload_request("DELETE", api::upload_path("rpi5", "1.1")).status, 204u);
  EXPECT_EQ(builder::push_release(push_options()).state, "committed");  // the highest: 1.5
}

TEST_F(Push, SeederWithoutKeysRefusesEveryPush) {
  publish(key);
  fs::remove_all(nas() / "keys");
  start_seeder();
  EXPECT_ERROR_HAS(builder::push_release(push_options()), builder::Errc::kPush, "trusts no release keys");
}

}  // namespace
}  // namespace ironstone::seeder

// Tests for `verify` (builder/verify.h) and `gc` (builder/inspect.h): verify accepts a good
// store and names every problem of a tampered one (file, chunk, offset); gc keeps the newest N
// releases per board and channel and every chunk they reference.
#include "builder/verify.h"

#include "builder/errc.h"
#include "builder/inspect.h"
#include "builder/store.h"
#include "manifest/trust.h"
#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

using manifest::Compression;
using manifest::Manifest;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    img = sample_image();
    write_file(dir.path() / "gold.img", img);
    PublishOptions o = options(store(), "1.0");
    o.expires = 4102444800;  // 2100-01-01: not expired when the test runs
    m = publish((dir.path() / "gold.img").string(), key, o).manifest;
  }
  fs::path store() const { return dir.path() / "store"; }
  fs::path release() const { return store() / "releases/rpi5/1.0"; }
  VerifyReport run(std::vector<manifest::PublicKey> keys = {}) {
    VerifyOptions o;
    o.store = store();
    o.keys = keys.empty() ? std::vector<manifest::PublicKey>{key.public_key()} : keys;
    o.threads = 2;
    return verify_store(o);
  }
  static void flip(const fs::path& p, std::size_t pos, std::uint8_t mask = 0x01) {
    auto bytes = read_file(p);
    bytes.at(pos) ^= mask;
    write_file(p, bytes);
  }
  // Index of the first chunk with this compression.
  std::size_t chunk_with(Compression c) const {
    for (std::size_t i = 0; i < m.chunks.size(); ++i)
      if (m.chunks[i].compression == c) return i;
    return SIZE_MAX;
  }
  fs::path chunk_file(std::size_t i) const { return store() / manifest::layout::chunk_relpath(m.chunks[i].hash); }
  std::string chunk_prefix(std::size_t i) const {
    return "releases/rpi5/1.0: chunk " + std::to_string(i) + " (" + manifest::layout::chunk_relpath(m.chunks[i].hash) +
           ") @ " + hex_offset(m.chunks[i].offsets.front()) + ": ";
  }
  std::string bad_signature() const {
    return "releases/rpi5/1.0/manifest.json.minisig: signature does not match the message (key " + key.id.hex() + ")";
  }

  TempDir dir;
  manifest::SecretKey key = test_key();
  std::vector<std::uint8_t> img;
  Manifest m;
};

TEST_F(VerifyTest, FreshlyPublishedStoreVerifies) {
  VerifyReport r = run();
  EXPECT_THAT(r.problems, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.releases_checked, 1);
  EXPECT_EQ(r.chunks_checked, static_cast<int>(m.chunks.size()));
}

TEST_F(VerifyTest, FlippedManifestByteIsABadSignature) {
  for (std::size_t pos : {std::size_t{0}, std::size_t{10}, fs::file_size(release() / "manifest.json") / 2,
                          fs::file_size(release() / "manifest.json") - 1}) {
    SCOPED_TRACE(pos);
    flip(release() / "manifest.json", pos);
    VerifyReport r = run();
    EXPECT_FALSE(r.ok());
    ASSERT_FALSE(r.problems.empty());
    EXPECT_EQ(r.problems[0], bad_signature());
    flip(release() / "manifest.json", pos);  // undo
  }
  EXPECT_TRUE(run().ok());
}

TEST_F(VerifyTest, TruncatedManifestIsABadSignatureAndUnreadable) {
  fs::resize_file(release() / "manifest.json", fs::file_size(release() / "manifest.json") - 5);
  VerifyReport r = run();
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.problems.size(), 3u) << ::testing::PrintToString(r.problems);
  EXPECT_EQ(r.problems[0], bad_signature());
  EXPECT_THAT(r.problems[1], HasSubstr("releases/rpi5/1.0/manifest.json: parse error at line 1, column "));
  // The channel pointer pins the manifest's exact bytes.
  EXPECT_THAT(r.problems[2], HasSubstr("channels/rpi5/stable.json: BLAKE2b "));
}

TEST_F(VerifyTest, FlippedSignatureByteIsABadSignature) {
  std::string sig = slurp(release() / "manifest.json.minisig");
  std::size_t line2 = sig.find('\n') + 1;
  flip(release() / "manifest.json.minisig", line2 + 30, 0x02);
  VerifyReport r = run();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems, Contains(HasSubstr("releases/rpi5/1.0/manifest.json.minisig: ")));
}

TEST_F(VerifyTest, FlippedTrustedCommentIsABadSignature) {
  std::string sig = slurp(release() / "manifest.json.minisig");
  std::size_t pos = sig.find("sequence=1");
  ASSERT_NE(pos, std::string::npos);
  sig[pos + 9] = '2';
  write_text(release() / "manifest.json.minisig", sig);
  VerifyReport r = run();
  EXPECT_THAT(r.problems, ElementsAre("releases/rpi5/1.0/manifest.json.minisig: trusted comment signature does not "
                                      "verify (key " + key.id.hex() + ")"));
}

TEST_F(VerifyTest, MissingSignatureIsAProblem) {
  fs::remove(release() / "manifest.json.minisig");
  EXPECT_THAT(run().problems, ElementsAre("releases/rpi5/1.0/manifest.json: no signature "
                                          "(releases/rpi5/1.0/manifest.json.minisig)"));
}

TEST_F(VerifyTest, UnknownKeyIsAProblem) {
  VerifyReport r = run({test_key(0x77).public_key()});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems, Contains("releases/rpi5/1.0/manifest.json.minisig: signed by unknown key " + key.id.hex()));
}

TEST_F(VerifyTest, FlippedByteInARawChunkNamesFileChunkAndOffset) {
  std::size_t i = chunk_with(Compression::kRaw);
  ASSERT_NE(i, SIZE_MAX);
  flip(chunk_file(i), 100);
  auto bad = read_file(chunk_file(i));
  VerifyReport r = run();
  EXPECT_FALSE(r.ok());
  // Format 2: the stored bytes' hash fails first (a raw chunk's stored_hash is its hash).
  EXPECT_THAT(r.problems, ElementsAre(chunk_prefix(i) + "hash mismatch: stored bytes' BLAKE2b " +
                                     blake2b256(bad).hex() + ", signed stored_hash " + m.chunks[i].hash.hex()));
}

TEST_F(VerifyTest, FlippedByteInAZstdChunkIsAProblem) {
  std::size_t i = chunk_with(Compression::kZstd);
  ASSERT_NE(i, SIZE_MAX);
  flip(chunk_file(i), fs::file_size(chunk_file(i)) / 2, 0xFF);
  VerifyReport r = run();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_THAT(r.problems[0], HasSubstr(chunk_prefix(i)));
}

TEST_F(VerifyTest, TruncatedChunkIsAProblemNamingTheSizes) {
  std::size_t i = chunk_with(Compression::kRaw);
  fs::resize_file(chunk_file(i), m.chunks[i].stored_size - 1);
  EXPECT_THAT(run().problems, ElementsAre(chunk_prefix(i) + "stored size " + std::to_string(m.chunks[i].stored_size - 1) +
                                          " is not the signed " + std::to_string(m.chunks[i].stored_size)));
}

TEST_F(VerifyTest, SwappedChunksAreBothNamed) {
  std::vector<std::size_t> raw;
  for (std::size_t i = 0; i < m.chunks.size(); ++i)
    if (m.chunks[i].compression == Compression::kRaw && m.chunks[i].length == kChunk) raw.push_back(i);
  ASSERT_GE(raw.size(), 2u);
  auto a = read_file(chunk_file(raw[0])), b = read_file(chunk_file(raw[1]));
  write_file(chunk_file(raw[0]), b);
  write_file(chunk_file(raw[1]), a);
  VerifyReport r = run();
  EXPECT_THAT(r.problems, UnorderedElementsAre(HasSubstr(chunk_prefix(raw[0]) + "hash mismatch"),
                                               HasSubstr(chunk_prefix(raw[1]) + "hash mismatch")));
}

TEST_F(VerifyTest, MissingChunkIsAProblem) {
  fs::remove(chunk_file(0));
  EXPECT_THAT(run().problems, ElementsAre(chunk_prefix(0) + chunk_file(0).string() +
                                          ": cannot read: No such file or directory"));
}

TEST_F(VerifyTest, ChunkLargerThanItsLengthIsAProblem) {
  auto bytes = read_file(chunk_file(0));
  bytes.resize(m.chunks[0].length + 1, 0);
  write_file(chunk_file(0), bytes);
  EXPECT_THAT(run().problems, ElementsAre(chunk_prefix(0) + chunk_file(0).string() + ": larger than " +
                                          std::to_string(m.chunks[0].length) + " bytes"));
}

TEST_F(VerifyTest, EveryProblemIsNamedNotJustTheFirst) {
  fs::remove(chunk_file(0));
  fs::resize_file(chunk_file(1), 10);
  flip(chunk_file(2), 3, 0x80);
  fs::remove(release() / "manifest.json.minisig");
  VerifyReport r = run();
  EXPECT_EQ(r.problems.size(), 4u) << ::testing::PrintToString(r.problems);
  EXPECT_THAT(r.problems, Contains(HasSubstr(chunk_prefix(0))));
  EXPECT_THAT(r.problems, Contains(HasSubstr(chunk_prefix(1))));
  EXPECT_THAT(r.problems, Contains(HasSubstr(chunk_prefix(2))));
  EXPECT_THAT(r.problems, Contains(HasSubstr("no signature")));
}

TEST_F(VerifyTest, TamperedTorrentIsAProblem) {
  std::string t = slurp(release() / "release.torrent");
  flip(release() / "release.torrent", t.find("4:infod") + 20);
  VerifyReport r = run();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems, Contains(HasSubstr("releases/rpi5/1.0/release.torrent: ")));
}

TEST_F(VerifyTest, TamperedChannelPointerIsAProblem) {
  fs::path ch = store() / "channels/rpi5/stable.json";
  std::string text = slurp(ch);
  text.replace(text.find("\"sequence\":1"), 12, "\"sequence\":5");
  write_text(ch, text);
  EXPECT_THAT(run().problems, ElementsAre("channels/rpi5/stable.json.minisig: signature does not match the message "
                                          "(key " + key.id.hex() + ")"));
}

TEST_F(VerifyTest, ChannelPointerToAChangedManifestIsAProblem) {
  // Re-sign a changed manifest properly: the release verifies, the pointer's pin does not.
  std::string text = slurp(release() / "manifest.json");
  Manifest changed = manifest::parse_manifest(text, "m");
  changed.provenance.ci_run = "other";
  std::string new_text = manifest::serialize(changed);
  write_text(release() / "manifest.json", new_text);
  write_text(release() / "manifest.json.minisig",
             manifest::sign(key, {reinterpret_cast<const std::uint8_t*>(new_text.data()), new_text.size()},
                            manifest::manifest_trusted_comment(changed)));
  VerifyReport r = run();
  EXPECT_THAT(r.problems, ElementsAre(HasSubstr("channels/rpi5/stable.json: BLAKE2b ")));
}

TEST_F(VerifyTest, ReleaseInTheWrongDirectoryIsAProblem) {
  fs::rename(release(), store() / "releases/rpi5/2.0");
  fs::remove(store() / "channels/rpi5/stable.json");
  fs::remove(store() / "channels/rpi5/stable.json.minisig");
  EXPECT_THAT(run().problems, ElementsAre("releases/rpi5/2.0: manifest is for rpi5/1.0"));
}

TEST_F(VerifyTest, StoreWithoutReleasesDoesNotVerify) {
  TempDir empty;
  VerifyOptions o;
  o.store = empty.path();
  o.keys = {key.public_key()};
  VerifyReport r = verify_store(o);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems, ElementsAre(empty.path().string() + ": no release matches"));
  o.store = store();
  o.board = "rock5b";
  EXPECT_THAT(verify_store(o).problems, ElementsAre(store().string() + ": no release matches board rock5b"));
}

TEST_F(VerifyTest, ExpiredReleaseIsAProblemUnlessAllowed) {
  TempDir other;
  PublishOptions o = options(other.path());
  o.now = 1500000000;  // 2017: expired long ago
  publish((dir.path() / "gold.img").string(), key, o);
  VerifyOptions vo;
  vo.store = other.path();
  vo.keys = {key.public_key()};
  VerifyReport r = verify_store(vo);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems,
              ElementsAre("releases/rpi5/1.0: expired at 2018-01-10T02:40:00Z (--allow-expired to accept)"));
  EXPECT_THAT(r.warnings, IsEmpty());
  vo.allow_expired = true;
  r = verify_store(vo);
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(r.problems);
  EXPECT_THAT(r.warnings, ElementsAre("releases/rpi5/1.0: expired at 2018-01-10T02:40:00Z"));
}

TEST_F(VerifyTest, ReleaseExpiringAtTheCheckTimeIsExpired) {
  VerifyOptions vo;
  vo.store = store();
  vo.keys = {key.public_key()};
  vo.now = 4102444800;  // the release's expiry (2100-01-01)
  EXPECT_THAT(verify_store(vo).problems,
              ElementsAre("releases/rpi5/1.0: expired at 2100-01-01T00:00:00Z (--allow-expired to accept)"));
  vo.now = 4102444799;
  EXPECT_TRUE(verify_store(vo).ok());
}

TEST_F(VerifyTest, StoreKeysArePubFilesTrustedWithoutPublicKeyFlag) {
  fs::create_directories(store() / "keys");
  write_text(store() / "keys/release.pub", manifest::serialize_public_key(key.public_key()));
  VerifyOptions o;
  o.store = store();
  o.threads = 2;
  VerifyReport r = verify_store(o);
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(r.problems);
  EXPECT_THAT(r.trusted_keys, ElementsAre(key.id.hex() + " (keys/release.pub)"));
  // A key given both ways is listed once, as given.
  o.keys = {key.public_key()};
  EXPECT_THAT(verify_store(o).trusted_keys, ElementsAre(key.id.hex() + " (--public-key)"));
}

TEST_F(VerifyTest, StoreKeyOfAnotherSignerDoesNotVerifyTheRelease) {
  fs::create_directories(store() / "keys");
  write_text(store() / "keys/other.pub", manifest::serialize_public_key(test_key(0x77).public_key()));
  VerifyOptions o;
  o.store = store();
  o.threads = 2;
  VerifyReport r = verify_store(o);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems, Contains(HasSubstr("releases/rpi5/1.0/manifest.json.minisig: signed by unknown key " +
                                             key.id.hex())));
}

TEST_F(VerifyTest, StoreKeyFileThatDoesNotParseIsAProblem) {
  fs::create_directories(store() / "keys");
  write_text(store() / "keys/broken.pub", "not a key\n");
  VerifyReport r = run();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.problems, Contains(HasSubstr("keys/broken.pub: ")));
}

TEST_F(VerifyTest, NoKeyAtAllIsAProblem) {
  VerifyOptions o;
  o.store = store();
  o.threads = 2;
  EXPECT_THAT(verify_store(o).problems,
              Contains("no trusted public key (--public-key, or keys/*.pub in " + store().string() + ")"));
}

// ---------------------------------------------------------------------------------------------
// gc

class GcTest : public ::testing::Test {
 protected:
  fs::path store() const { return dir.path() / "store"; }
  // Version k shares its first block with every other version and has one block of its own.
  // `created`: the manifest's creation time (default kNow).
  Manifest publish_version(int k, const std::string& channel = "stable", const std::string& board = "rpi5",
                           std::int64_t created = kNow) {
    auto img = concat({pseudo_random(kChunk, 1000), pseudo_random(kChunk, static_cast<std::uint64_t>(k) + 1)});
    fs::path p = dir.path() / ("v" + std::to_string(k) + ".img");
    write_file(p, img);
    PublishOptions o = options(store(), (channel == "stable" ? "" : channel + "-") + std::to_string(k) + ".0", board);
    o.channel = channel;
    o.now = created;
    o.expires = 4102444800;  // 2100-01-01: verify() refuses expired releases
    return publish(p.string(), key, o).manifest;
  }
  std::string own_chunk(const Manifest& m) const {
    for (const auto& c : m.chunks)
      if (c.hash != blake2b256(pseudo_random(kChunk, 1000))) return manifest::layout::chunk_relpath(c.hash);
    return "";
  }
  std::vector<std::string> releases() const {
    std::vector<std::string> out;
    for (const auto& r : Store(store()).releases()) out.push_back(r.board + "/" + r.version);
    return out;
  }
  bool verifies() const {
    VerifyOptions o;
    o.store = store();
    o.keys = {key.public_key()};
    VerifyReport r = verify_store(o);
    EXPECT_THAT(r.problems, IsEmpty());
    return r.ok();
  }

  TempDir dir;
  manifest::SecretKey key = test_key();
};

TEST_F(GcTest, KeepsNewestNPerBoardAndChannelAndEveryChunkTheyReference) {
  Manifest v1 = publish_version(1), v2 = publish_version(2), v3 = publish_version(3), v4 = publish_version(4);
  publish_version(5, "beta");
  publish_version(6, "stable", "rock5b");
  GcResult r = gc({store(), 2, false});
  EXPECT_THAT(r.removed_releases, UnorderedElementsAre("rpi5/1.0", "rpi5/2.0"));
  EXPECT_THAT(r.removed_chunks, UnorderedElementsAre(own_chunk(v1), own_chunk(v2)));
  EXPECT_EQ(r.freed_bytes, fs::file_size(dir.path() / "v1.img") / 2 + fs::file_size(dir.path() / "v2.img") / 2);
  EXPECT_THAT(releases(), ElementsAre("rock5b/6.0", "rpi5/3.0", "rpi5/4.0", "rpi5/beta-5.0"));
  EXPECT_FALSE(fs::exists(store() / own_chunk(v1)));
  EXPECT_TRUE(fs::exists(store() / own_chunk(v3)));
  EXPECT_TRUE(verifies());
}

TEST_F(GcTest, DryRunListsTheSameButChangesNothing) {
  publish_version(1);
  publish_version(2);
  publish_version(3);
  auto before = snapshot(store());
  GcResult dry = gc({store(), 1, true});
  EXPECT_STORE_UNCHANGED(before, store());
  GcResult real = gc({store(), 1, false});
  EXPECT_EQ(dry.removed_releases, real.removed_releases);
  EXPECT_EQ(dry.removed_chunks, real.removed_chunks);
  EXPECT_EQ(dry.freed_bytes, real.freed_bytes);
  EXPECT_THAT(releases(), ElementsAre("rpi5/3.0"));
  EXPECT_TRUE(verifies());
}

TEST_F(GcTest, ReleaseNamedByTheChannelPointerIsKeptEvenWhenOld) {
  publish_version(1);
  std::string ptr = slurp(store() / "channels/rpi5/stable.json");
  std::string sig = slurp(store() / "channels/rpi5/stable.json.minisig");
  publish_version(2);
  publish_version(3);
  // The operator rolled the channel back to 1.0 (a signed pointer to it).
  write_text(store() / "channels/rpi5/stable.json", ptr);
  write_text(store() / "channels/rpi5/stable.json.minisig", sig);
  GcResult r = gc({store(), 1, false});
  EXPECT_THAT(r.removed_releases, ElementsAre("rpi5/2.0"));
  EXPECT_THAT(releases(), ElementsAre("rpi5/1.0", "rpi5/3.0"));
  EXPECT_TRUE(verifies());
}

TEST_F(GcTest, NothingToRemoveRemovesNothing) {
  publish_version(1);
  publish_version(2);
  auto before = snapshot(store());
  GcResult r = gc({store(), 3, false});
  EXPECT_THAT(r.removed_releases, IsEmpty());
  EXPECT_THAT(r.removed_chunks, IsEmpty());
  EXPECT_EQ(r.freed_bytes, 0u);
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(GcTest, StaleTemporariesOfCrashedPublishersAreRemoved) {
  publish_version(1);
  fs::create_directories(store() / "releases/rpi5/.tmp-2.0-12345");
  write_text(store() / "releases/rpi5/.tmp-2.0-12345/manifest.json", "{");
  fs::create_directories(store() / "chunks/ab");
  write_text(store() / "chunks/ab/abcdef.zst.tmp-12345", "partial");
  GcResult r = gc({store(), 3, false});
  EXPECT_FALSE(fs::exists(store() / "releases/rpi5/.tmp-2.0-12345"));
  EXPECT_FALSE(fs::exists(store() / "chunks/ab/abcdef.zst.tmp-12345"));
  EXPECT_THAT(r.removed_chunks, ElementsAre("chunks/ab/abcdef.zst.tmp-12345"));
  EXPECT_TRUE(verifies());
}

TEST_F(GcTest, KeepBelowOneIsRefused) {
  publish_version(1);
  auto before = snapshot(store());
  EXPECT_ERROR_EQ(gc({store(), 0, false}), Errc::kUsage, "--keep 0: must keep at least 1");
  EXPECT_STORE_UNCHANGED(before, store());
}

// gc by age: --older-than, with GcOptions::now fixed.
GcOptions by_age(const fs::path& store, std::int64_t older_than, int keep = 3) {
  GcOptions o{store, keep, false};
  o.older_than = older_than;
  o.now = kNow;
  return o;
}
constexpr std::int64_t kDay = 86400;

TEST_F(GcTest, OlderThanRemovesReleasesCreatedBeforeTheCutoffEvenAmongTheNewest) {
  Manifest v1 = publish_version(1, "stable", "rpi5", kNow - 100 * kDay);
  publish_version(2, "stable", "rpi5", kNow - 50 * kDay);
  Manifest v3 = publish_version(3, "stable", "rpi5", kNow - 10 * kDay);
  GcResult r = gc(by_age(store(), 30 * kDay));
  EXPECT_THAT(r.removed_releases, ElementsAre("rpi5/2.0", "rpi5/1.0"));  // newest first
  EXPECT_THAT(releases(), ElementsAre("rpi5/3.0"));
  EXPECT_FALSE(fs::exists(store() / own_chunk(v1)));
  EXPECT_TRUE(fs::exists(store() / own_chunk(v3)));
  EXPECT_TRUE(verifies());
}

TEST_F(GcTest, OlderThanNeverRemovesTheReleaseAChannelPointerNames) {
  publish_version(1, "stable", "rpi5", kNow - 100 * kDay);
  publish_version(2, "stable", "rpi5", kNow - 90 * kDay);  // the channel's current release
  GcResult r = gc(by_age(store(), 30 * kDay));
  EXPECT_THAT(r.removed_releases, ElementsAre("rpi5/1.0"));
  EXPECT_THAT(releases(), ElementsAre("rpi5/2.0"));
  EXPECT_TRUE(verifies());
}

TEST_F(GcTest, CountAndAgeTogetherRemoveWhatEitherRuleGivesUp) {
  publish_version(1, "stable", "rpi5", kNow - 100 * kDay);
  publish_version(2, "stable", "rpi5", kNow - 2 * kDay);
  publish_version(3, "stable", "rpi5", kNow - 1 * kDay);
  GcResult r = gc(by_age(store(), 30 * kDay, 1));
  EXPECT_THAT(r.removed_releases, ElementsAre("rpi5/2.0", "rpi5/1.0"));
  EXPECT_THAT(releases(), ElementsAre("rpi5/3.0"));
}

TEST_F(GcTest, ANegativeAgeIsRefused) {
  publish_version(1);
  auto before = snapshot(store());
  EXPECT_ERROR_EQ(gc(by_age(store(), -1)), Errc::kUsage, "--older-than: -1 s: must not be negative");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(GcTest, GcWhileAPublisherHoldsTheStoreIsRefused) {
  publish_version(1);
  publish_version(2);
  auto before = snapshot(store());
  StoreLock other(store());
  EXPECT_ERROR_HAS(gc({store(), 1, false}), Errc::kBusy, "store is being written by another publisher");
  EXPECT_STORE_UNCHANGED(before, store());
}

}  // namespace
}  // namespace ironstone::builder::testing

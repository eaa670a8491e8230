// Tests for `publish` (builder/publish.h, chunk_pipeline.h, store.h): the release it writes,
// odd image sizes, sparse images over 4 GiB, determinism, and atomicity: every failure
// (bad input, full disk, a busy store, a late error) leaves the store exactly as it was.
#include "builder/publish.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "builder/chunk_pipeline.h"
#include "builder/errc.h"
#include "builder/store.h"
#include "builder/verify.h"
#include "manifest/channel.h"
#include "manifest/chunk_codec.h"
#include "manifest/image_hash.h"
#include "manifest/torrent.h"
#include "manifest/trust.h"
#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

using manifest::Compression;
using manifest::Manifest;
using ::testing::HasSubstr;

class PublishTest : public ::testing::Test {
 protected:
  fs::path store() const { return dir.path() / "store"; }
  fs::path image(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    fs::path p = dir.path() / name;
    write_file(p, bytes);
    return p;
  }
  PublishResult publish_bytes(const std::vector<std::uint8_t>& bytes, const std::string& version = "1.0") {
    return publish(image("img-" + version + ".img", bytes).string(), key, options(store(), version));
  }
  // `verify` of the whole store with the test key (expired releases allowed).
  VerifyOptions verify_options() const {
    VerifyOptions vo;
    vo.store = store();
    vo.keys = {key.public_key()};
    vo.allow_expired = true;
    return vo;
  }
  // Reads and verifies the release like a flasher would (as of kNow).
  manifest::VerifiedManifest verified(const std::string& version, const std::string& board = "rpi5") {
    fs::path rd = manifest::layout::release_dir(store(), board, version);
    manifest::TrustPolicy p;
    p.trusted_keys = {key.public_key()};
    p.board = board;
    p.channel = "stable";
    p.now = kNow;
    return manifest::verify_manifest(
        manifest::UnverifiedManifest(slurp(rd / "manifest.json"), slurp(rd / "manifest.json.minisig"),
                                     (rd / "manifest.json").string()),
        p);
  }

  TempDir dir;
  manifest::SecretKey key = test_key();
};

// ---------------------------------------------------------------------------------------------
// The release

TEST_F(PublishTest, PublishedReleaseIsSignedAndRebuildsTheImageExactly) {
  auto img = sample_image();
  PublishResult r = publish_bytes(img);
  EXPECT_EQ(r.release_dir, store() / "releases/rpi5/1.0");
  for (const char* f : {"manifest.json", "manifest.json.minisig", "release.torrent"})
    EXPECT_TRUE(fs::is_regular_file(r.release_dir / f)) << f;
  auto v = verified("1.0");
  const Manifest& m = v.manifest();
  EXPECT_EQ(m.image_size, img.size());
  EXPECT_EQ(m.sequence, 1u);
  EXPECT_EQ(m.channel, "stable");
  EXPECT_EQ(m.created, kNow);
  EXPECT_EQ(m.expires, kNow + 180 * 86400);
  EXPECT_EQ(m.provenance.source_name, "img-1.0.img");
  EXPECT_EQ(m.provenance.git_commit, "0123456789abcdef");
  EXPECT_EQ(m.provenance.ci_run, "test:1");
  EXPECT_EQ(rebuild(store(), m), img);
  std::string torrent = slurp(r.release_dir / "release.torrent");
  EXPECT_NO_THROW(manifest::check_torrent(m, std::span<const char>(torrent.data(), torrent.size()), "t"));
  EXPECT_EQ(r.new_chunk_files, m.chunks.size());
}

TEST_F(PublishTest, ImageHashIsTheHashOfBlockHashesOverTheWholeImage) {
  auto img = sample_image();
  publish_bytes(img);
  std::vector<Hash256> blocks;
  for (std::size_t off = 0; off < img.size(); off += kChunk)
    blocks.push_back(blake2b256(std::span(img).subspan(off, std::min<std::size_t>(kChunk, img.size() - off))));
  EXPECT_EQ(verified("1.0").manifest().image_hash, manifest::image_hash_from_block_hashes(blocks));
}

TEST_F(PublishTest, IdenticalBlocksAreStoredOnceWithEveryOffset) {
  auto img = sample_image();
  const Manifest m = publish_bytes(img).manifest;
  auto a = blake2b256(std::span(img).first(kChunk));
  auto it = std::find_if(m.chunks.begin(), m.chunks.end(), [&](const auto& c) { return c.hash == a; });
  ASSERT_NE(it, m.chunks.end());
  EXPECT_EQ(it->offsets, (std::vector<std::uint64_t>{0, 4 * kChunk}));
  EXPECT_EQ(m.chunks.size(), 6u);  // a, compressible, 3 random, tail
  EXPECT_TRUE(std::is_sorted(m.chunks.begin(), m.chunks.end(),
                             [](const auto& x, const auto& y) { return x.hash < y.hash; }));
}

TEST_F(PublishTest, ZeroBlocksBecomeMergedZeroRangesAndAreNotStored) {
  const Manifest m = publish_bytes(sample_image()).manifest;
  EXPECT_EQ(m.zero_ranges, (std::vector<manifest::ZeroRange>{{2 * kChunk, 2 * kChunk}, {8 * kChunk, kChunk}}));
  EXPECT_EQ(m.data_bytes() + 3 * kChunk, m.image_size);
}

TEST_F(PublishTest, IncompressibleChunksAreStoredRawAndCompressibleOnesZstd) {
  const Manifest m = publish_bytes(sample_image()).manifest;
  int raw = 0, zstd = 0;
  for (const auto& c : m.chunks) {
    auto size = fs::file_size(store() / manifest::layout::chunk_relpath(c.hash));
    EXPECT_EQ(size, c.stored_size);
    EXPECT_LE(size, c.length);
    (c.compression == Compression::kRaw ? raw : zstd)++;
  }
  EXPECT_EQ(raw, 4);
  EXPECT_EQ(zstd, 2);
}

TEST_F(PublishTest, ImageSizeNotAMultipleOfTheChunkSizeEndsInAShortChunk) {
  auto img = concat({pseudo_random(3 * kChunk, 7), pseudo_random(1, 8)});
  const Manifest m = publish_bytes(img).manifest;
  EXPECT_EQ(m.image_size, 3 * kChunk + 1);
  auto tail = std::find_if(m.chunks.begin(), m.chunks.end(), [](const auto& c) { return c.length == 1; });
  ASSERT_NE(tail, m.chunks.end());
  EXPECT_EQ(tail->offsets, (std::vector<std::uint64_t>{3 * kChunk}));
  EXPECT_EQ(rebuild(store(), m), img);
}

TEST_F(PublishTest, ZeroTailShorterThanAChunkIsAShortZeroRange) {
  auto img = concat({pseudo_random(kChunk, 9), zeros(kChunk + 100)});
  const Manifest m = publish_bytes(img).manifest;
  EXPECT_EQ(m.zero_ranges, (std::vector<manifest::ZeroRange>{{kChunk, kChunk + 100}}));
  EXPECT_EQ(rebuild(store(), m), img);
}

TEST_F(PublishTest, ImageSmallerThanOneChunkIsOneShortChunk) {
  auto img = pseudo_random(1000, 10, true);
  const Manifest m = publish_bytes(img).manifest;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, 1000u);
  EXPECT_TRUE(m.zero_ranges.empty());
  EXPECT_EQ(rebuild(store(), m), img);
}

TEST_F(PublishTest, DataAnywhereInsideALargeBlockIsFoundWhetherZerosAreHolesOrBytes) {
  // 1 MiB blocks are read in several windows: data after leading zeros, in the last bytes only,
  // between holes of a sparse file, and blocks that are zeros written as bytes.
  const std::uint64_t cs = 1 << 20;
  auto data = pseudo_random(100 * 1024, 40, true);
  auto img = zeros(6 * cs + 1000);
  std::copy(data.begin(), data.end(), img.begin() + 600 * 1024);                    // block 0: after 600 KiB of zeros
  img[2 * cs - 1] = 0x5A;                                                            // block 1: its last byte
  std::copy(data.begin(), data.end(), img.begin() + static_cast<std::ptrdiff_t>(4 * cs + 300 * 1024));  // block 4
  img[6 * cs + 999] = 1;                                                             // the short tail block
  for (bool sparse : {false, true}) {
    fs::path p = dir.path() / (sparse ? "sparse-blocks.img" : "dense-blocks.img");
    if (sparse) {  // zeros as holes: only the non-zero 4 KiB pages are written
      int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(img.size())), 0);
      for (std::size_t off = 0; off < img.size(); off += 4096) {
        const std::size_t n = std::min<std::size_t>(4096, img.size() - off);
        if (!manifest::is_all_zero(std::span(img).subspan(off, n)))
          ASSERT_EQ(::pwrite(fd, img.data() + off, n, static_cast<off_t>(off)), static_cast<ssize_t>(n));
      }
      ::close(fd);
    } else {
      write_file(p, img);
    }
    PublishOptions o = options(dir.path() / (sparse ? "store-sparse" : "store-dense"));
    o.chunk_size = cs;
    const Manifest m = publish(p.string(), key, o).manifest;
    EXPECT_EQ(m.zero_ranges, (std::vector<manifest::ZeroRange>{{2 * cs, 2 * cs}, {5 * cs, cs}})) << p;
    EXPECT_EQ(m.chunks.size(), 4u) << p;
    EXPECT_EQ(rebuild(o.store, m), img) << p;
  }
}

TEST_F(PublishTest, ChannelPointerNamesTheNewReleaseAndPinsItsManifest) {
  PublishResult r = publish_bytes(sample_image());
  EXPECT_TRUE(r.channel_updated);
  fs::path ch = store() / "channels/rpi5/stable.json";
  std::string text = slurp(ch);
  manifest::TrustPolicy p;
  p.trusted_keys = {key.public_key()};
  p.board = "rpi5";
  p.channel = "stable";
  p.now = kNow;
  auto c = manifest::verify_channel(text, slurp(ch.string() + ".minisig"), "stable.json", p);
  EXPECT_EQ(c.pointer().version, "1.0");
  EXPECT_EQ(c.pointer().sequence, 1u);
  EXPECT_NO_THROW(manifest::check_manifest_matches_channel(c, slurp(r.release_dir / "manifest.json"), "m"));
}

TEST_F(PublishTest, FirmwarePayloadIsCopiedAndHashedIntoTheManifest) {
  auto fw = pseudo_random(5000, 11);
  write_file(dir.path() / "pieeprom.bin", fw);
  PublishOptions o = options(store());
  o.firmware = {{dir.path() / "pieeprom.bin", "rpi-eeprom"}};
  PublishResult r = publish(image("a.img", sample_image()).string(), key, o);
  ASSERT_EQ(r.manifest.firmware.size(), 1u);
  EXPECT_EQ(r.manifest.firmware[0].name, "pieeprom.bin");
  EXPECT_EQ(r.manifest.firmware[0].kind, "rpi-eeprom");
  EXPECT_EQ(r.manifest.firmware[0].size, 5000u);
  EXPECT_EQ(r.manifest.firmware[0].hash, blake2b256(fw));
  EXPECT_EQ(read_file(r.release_dir / "firmware/pieeprom.bin"), fw);
}

TEST_F(PublishTest, TheGoldImagesSbomBesideItShipsWithTheReleaseAndItsHashIsSigned) {
  const fs::path img = image("gold.img", sample_image());
  const std::string sbom = "{\"spdxVersion\": \"SPDX-2.3\", \"packages\": []}\n";
  write_file(dir.path() / "gold.img.spdx.json", std::vector<std::uint8_t>(sbom.begin(), sbom.end()));
  PublishResult r = publish(img.string(), key, options(store()));
  ASSERT_TRUE(r.manifest.sbom);
  EXPECT_EQ(r.manifest.sbom->size, sbom.size());
  EXPECT_EQ(r.manifest.sbom->hash, blake2b256(std::vector<std::uint8_t>(sbom.begin(), sbom.end())));
  EXPECT_EQ(slurp(r.release_dir / "sbom.spdx.json"), sbom);
  ASSERT_TRUE(verified("1.0").manifest().sbom);  // in the signed bytes

  const VerifyOptions vo = verify_options();
  EXPECT_TRUE(verify_store(vo).ok());
  write_file(r.release_dir / "sbom.spdx.json", std::vector<std::uint8_t>(sbom.begin(), sbom.end() - 2));
  EXPECT_THAT(verify_store(vo).problems, ::testing::Contains("releases/rpi5/1.0/sbom.spdx.json: size or hash does not match the manifest"));
}

TEST_F(PublishTest, WithoutAnSbomOrWithNoSbomTheManifestHasNone) {
  const fs::path img = image("plain.img", sample_image());
  EXPECT_FALSE(publish(img.string(), key, options(store(), "1.0")).manifest.sbom);
  write_file(dir.path() / "plain.img.spdx.json", {'{', '}'});
  PublishOptions o = options(store(), "2.0");
  o.no_sbom = true;
  EXPECT_FALSE(publish(img.string(), key, o).manifest.sbom);
}

TEST_F(PublishTest, TheRecipeAndBuildLogShipWithTheReleaseAndTheirHashesAreSigned) {
  const std::string recipe = "board: rpi5\nsuite: bookworm\n";
  const std::string log = "step 1: debootstrap\nstep 2: seal\n";
  write_file(dir.path() / "rpi5.yaml", std::vector<std::uint8_t>(recipe.begin(), recipe.end()));
  write_file(dir.path() / "gold.log", std::vector<std::uint8_t>(log.begin(), log.end()));
  PublishOptions o = options(store());
  o.recipe = dir.path() / "rpi5.yaml";
  o.build_log = dir.path() / "gold.log";
  PublishResult r = publish(image("a.img", sample_image()).string(), key, o);
  const auto& p = r.manifest.provenance;
  ASSERT_TRUE(p.recipe);
  ASSERT_TRUE(p.build_log);
  EXPECT_EQ(p.recipe->size, recipe.size());
  EXPECT_EQ(p.recipe->hash, blake2b256(std::vector<std::uint8_t>(recipe.begin(), recipe.end())));
  EXPECT_EQ(p.build_log->hash, blake2b256(std::vector<std::uint8_t>(log.begin(), log.end())));
  EXPECT_EQ(slurp(r.release_dir / "recipe.yaml"), recipe);
  EXPECT_EQ(slurp(r.release_dir / "build.log"), log);
  ASSERT_TRUE(verified("1.0").manifest().provenance.build_log);  // in the signed bytes

  const VerifyOptions vo = verify_options();
  EXPECT_TRUE(verify_store(vo).ok());
  write_file(r.release_dir / "build.log", std::vector<std::uint8_t>(log.begin(), log.end() - 1));
  EXPECT_THAT(verify_store(vo).problems,
              ::testing::ElementsAre("releases/rpi5/1.0/build.log: size or hash does not match the manifest"));
  fs::remove(r.release_dir / "recipe.yaml");
  EXPECT_THAT(verify_store(vo).problems,
              ::testing::Contains((r.release_dir / "recipe.yaml").string() + ": cannot read: No such file or directory"));
}

TEST_F(PublishTest, WithoutARecipeOrBuildLogTheProvenanceNamesNeither) {
  PublishResult r = publish(image("plain.img", sample_image()).string(), key, options(store()));
  EXPECT_FALSE(r.manifest.provenance.recipe);
  EXPECT_FALSE(r.manifest.provenance.build_log);
  EXPECT_FALSE(fs::exists(r.release_dir / "recipe.yaml"));
  EXPECT_EQ(slurp(r.release_dir / "manifest.json").find("build_log"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Determinism and reuse

TEST_F(PublishTest, SameImageKeyAndFieldsTwiceGiveTheSameInfoHashAndBytes) {
  auto img = image("gold.img", sample_image());
  PublishOptions a = options(dir.path() / "store-a");
  PublishOptions b = options(dir.path() / "store-b");
  b.threads = 1;  // thread count must not matter
  PublishResult ra = publish(img.string(), key, a);
  PublishResult rb = publish(img.string(), key, b);
  EXPECT_EQ(ra.manifest.info_hash_v2, rb.manifest.info_hash_v2);
  for (const char* f : {"manifest.json", "manifest.json.minisig", "release.torrent"})
    EXPECT_EQ(slurp(ra.release_dir / f), slurp(rb.release_dir / f)) << f;
  auto sa = snapshot(a.store), sb = snapshot(b.store);
  sa.erase(".lock");
  sb.erase(".lock");
  EXPECT_EQ(sa, sb);
}

TEST_F(PublishTest, ImageReadInOrderGivesTheSameReleaseAsRandomAccess) {
  // The raw file is read by the workers in parallel, its .zst in order by one thread.
  auto img = image("gold.img", sample_image());
  ASSERT_EQ(run_command("zstd -q -3 " + img.string() + " -o " + img.string() + ".zst"), 0);
  PublishOptions a = options(dir.path() / "store-a");
  PublishOptions b = options(dir.path() / "store-b");
  b.threads = 3;
  const Manifest ma = publish(img.string(), key, a).manifest;
  const Manifest mb = publish(img.string() + ".zst", key, b).manifest;
  ASSERT_EQ(ma.chunks.size(), mb.chunks.size());
  for (std::size_t i = 0; i < ma.chunks.size(); ++i) {
    EXPECT_EQ(ma.chunks[i].hash, mb.chunks[i].hash);
    EXPECT_EQ(ma.chunks[i].offsets, mb.chunks[i].offsets);
    EXPECT_EQ(ma.chunks[i].stored_size, mb.chunks[i].stored_size);
  }
  EXPECT_EQ(ma.zero_ranges, mb.zero_ranges);
  EXPECT_EQ(ma.image_hash, mb.image_hash);
  EXPECT_EQ(ma.info_hash_v2, mb.info_hash_v2);
  auto sa = snapshot(a.store / "chunks"), sb = snapshot(b.store / "chunks");
  EXPECT_EQ(sa, sb);
}

TEST_F(PublishTest, RepublishingTheSameContentReusesEveryChunkFile) {
  auto img = sample_image();
  PublishResult first = publish_bytes(img, "1.0");
  PublishResult second = publish_bytes(img, "1.1");
  EXPECT_EQ(second.new_chunk_files, 0u);
  EXPECT_EQ(second.reused_chunk_files, first.manifest.chunks.size());
  EXPECT_EQ(second.manifest.info_hash_v2, first.manifest.info_hash_v2);
  EXPECT_EQ(second.manifest.sequence, 2u);
}

TEST_F(PublishTest, CorruptLeftoverChunkFileIsReplacedNotTrusted) {
  auto img = sample_image();
  const Manifest m = publish_bytes(img, "1.0").manifest;
  fs::path victim = store() / manifest::layout::chunk_relpath(m.chunks[0].hash);
  auto bytes = read_file(victim);
  bytes[bytes.size() / 2] ^= 0xFF;
  write_file(victim, bytes);
  const Manifest m2 = publish_bytes(img, "1.1").manifest;
  EXPECT_EQ(rebuild(store(), m2), img);
}

// ---------------------------------------------------------------------------------------------
// Sequence, existing releases, options

TEST_F(PublishTest, SequenceDefaultsToHighestOnTheChannelPlusOne) {
  publish_bytes(sample_image(1), "1.0");
  PublishOptions o = options(store(), "2.0");
  o.sequence = 10;
  publish(image("b.img", sample_image(2)).string(), key, o);
  EXPECT_EQ(publish_bytes(sample_image(3), "3.0").manifest.sequence, 11u);
  PublishOptions beta = options(store(), "beta-1");
  beta.channel = "beta";
  EXPECT_EQ(publish(image("c.img", sample_image(4)).string(), key, beta).manifest.sequence, 1u);
}

TEST_F(PublishTest, SequenceNotAboveTheHighestIsRefusedAndLeavesStoreUntouched) {
  publish_bytes(sample_image(1), "1.0");
  auto before = snapshot(store());
  PublishOptions o = options(store(), "0.9");
  o.sequence = 1;
  EXPECT_ERROR_EQ(publish(image("b.img", sample_image(2)).string(), key, o), Errc::kUsage,
                  "--sequence 1 is not above the highest published for rpi5/stable (1): flashers would refuse it "
                  "as a rollback");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(PublishTest, ExistingVersionIsRefusedAndLeavesStoreUntouched) {
  publish_bytes(sample_image(1), "1.0");
  auto before = snapshot(store());
  EXPECT_ERROR_EQ(publish_bytes(sample_image(2), "1.0"), Errc::kExists,
                  (store() / "releases/rpi5/1.0").string() + ": release rpi5/1.0 already exists");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(PublishTest, BadOptionsAreRefusedNamingTheFlag) {
  auto img = image("a.img", sample_image()).string();
  PublishOptions o = options(store());
  o.chunk_size = 3 * kChunk;
  EXPECT_ERROR_EQ(publish(img, key, o), Errc::kUsage,
                  "--chunk-size 196608: expected a power of two from 64 KiB to 64 MiB");
  o = options(store(), "../x");
  EXPECT_ERROR_EQ(publish(img, key, o), Errc::kUsage,
                  "--version '../x': expected [A-Za-z0-9._+-]{1,64}, not starting with '.'");
  o = options(store(), "1.0", "Rpi5");
  EXPECT_ERROR_EQ(publish(img, key, o), Errc::kUsage, "--board 'Rpi5': expected [a-z0-9-]{1,64}");
  o = options(store());
  o.expires = kNow;
  EXPECT_ERROR_EQ(publish(img, key, o), Errc::kUsage, "--expires 2026-01-01T00:00:00Z is not in the future");
}

// ---------------------------------------------------------------------------------------------
// Empty and sparse images

TEST_F(PublishTest, EmptyImageIsRefusedAndLeavesStoreUntouched) {
  publish_bytes(sample_image(1), "1.0");
  auto before = snapshot(store());
  fs::path empty = image("empty.img", {});
  EXPECT_ERROR_EQ(publish(empty.string(), key, options(store(), "2.0")), Errc::kInput,
                  empty.string() + ": image is empty");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(PublishTest, AllZeroImageIsRefusedAndLeavesStoreUntouched) {
  publish_bytes(sample_image(1), "1.0");
  auto before = snapshot(store());
  fs::path z = image("zero.img", zeros(3 * kChunk + 5));
  EXPECT_ERROR_EQ(publish(z.string(), key, options(store(), "2.0")), Errc::kInput,
                  z.string() + ": image is all zeros: nothing to publish");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(PublishTest, SparseImageOver4GiBIsPublishedQuicklyWithHolesAsZeroRanges) {
  // 5 GiB + 777 bytes, data in three places: the start, just past 4 GiB, and the tail.
  const std::uint64_t size = (5ull << 30) + 777;
  const std::uint64_t past4g = (4ull << 30) + 3 * kChunk;
  fs::path p = dir.path() / "sparse.img";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  auto head = pseudo_random(kChunk, 21), mid = pseudo_random(kChunk + 10, 22), tail = pseudo_random(777, 23);
  ASSERT_EQ(::pwrite(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  ASSERT_EQ(::pwrite(fd, mid.data(), mid.size(), static_cast<off_t>(past4g)), static_cast<ssize_t>(mid.size()));
  ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(size - 777)), static_cast<ssize_t>(777));
  ::close(fd);

  PublishOptions o = options(store());
  o.chunk_size = 1 << 20;
  const auto start = std::chrono::steady_clock::now();
  const Manifest m = publish(p.string(), key, o).manifest;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 8.0) << "holes must not be read";

  const std::uint64_t cs = 1 << 20;
  const std::uint64_t mid_block = past4g / cs * cs;  // the 1 MiB block holding `mid` (it fits in one)
  EXPECT_EQ(m.image_size, size);
  EXPECT_EQ(m.zero_ranges, (std::vector<manifest::ZeroRange>{{cs, mid_block - cs},
                                                              {mid_block + cs, (5ull << 30) - mid_block - cs}}));
  ASSERT_EQ(m.chunks.size(), 3u);
  std::uint64_t data = 0;
  for (const auto& c : m.chunks) data += c.length;
  EXPECT_EQ(data, 2 * cs + 777);
  // The tail chunk is the 777 bytes after 5 GiB.
  auto t = std::find_if(m.chunks.begin(), m.chunks.end(), [](const auto& c) { return c.length == 777; });
  ASSERT_NE(t, m.chunks.end());
  EXPECT_EQ(t->offsets, (std::vector<std::uint64_t>{5ull << 30}));
  EXPECT_EQ(t->hash, blake2b256(tail));
  // The mid block hashes as the real bytes around `mid`.
  std::vector<std::uint8_t> block(cs, 0);
  std::copy(mid.begin(), mid.end(), block.begin() + static_cast<std::ptrdiff_t>(past4g - mid_block));
  auto b = std::find_if(m.chunks.begin(), m.chunks.end(), [&](const auto& c) { return c.offsets[0] == mid_block; });
  ASSERT_NE(b, m.chunks.end());
  EXPECT_EQ(b->hash, blake2b256(block));
  EXPECT_NO_THROW(verified("1.0"));
}

// ---------------------------------------------------------------------------------------------
// Bad input leaves the store exactly as it was

class BadInputTest : public PublishTest {
 protected:
  void SetUp() override {
    publish_bytes(sample_image(1), "1.0");
    before = snapshot(store());
  }
  Snapshot before;
};

TEST_F(BadInputTest, TruncatedZstdImageLeavesStoreUntouched) {
  write_file(dir.path() / "gold.img", sample_image(5));
  ASSERT_EQ(run_command("zstd -q -3 " + (dir.path() / "gold.img").string() + " -o " + (dir.path() / "gold.img.zst").string()), 0);
  fs::path zst = dir.path() / "gold.img.zst";
  fs::resize_file(zst, fs::file_size(zst) - 100);
  EXPECT_ERROR_EQ(publish(zst.string(), key, options(store(), "2.0")), Errc::kInput,
                  zst.string() + ": zstd stream truncated at input offset " + hex_offset(fs::file_size(zst)));
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, TruncatedXzImageLeavesStoreUntouched) {
  write_file(dir.path() / "gold.img", sample_image(5));
  ASSERT_EQ(run_command("xz -q -k -1 " + (dir.path() / "gold.img").string()), 0);
  fs::path xz = dir.path() / "gold.img.xz";
  fs::resize_file(xz, fs::file_size(xz) - 100);
  EXPECT_ERROR_EQ(publish(xz.string(), key, options(store(), "2.0")), Errc::kInput,
                  xz.string() + ": xz stream truncated at input offset " + hex_offset(fs::file_size(xz)));
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, CorruptZstdImageLeavesStoreUntouched) {
  write_file(dir.path() / "gold.img", sample_image(5));
  ASSERT_EQ(run_command("zstd -q -3 " + (dir.path() / "gold.img").string() + " -o " + (dir.path() / "gold.img.zst").string()), 0);
  fs::path zst = dir.path() / "gold.img.zst";
  auto bytes = read_file(zst);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] ^= 0x5A;
  write_file(zst, bytes);
  EXPECT_ERROR_HAS(publish(zst.string(), key, options(store(), "2.0")), Errc::kInput,
                   zst.string() + ": zstd stream corrupt (");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, MissingImageLeavesStoreUntouched) {
  fs::path missing = dir.path() / "nope.img";
  EXPECT_ERROR_EQ(publish(missing.string(), key, options(store(), "2.0")), Errc::kInput,
                  missing.string() + ": cannot open: No such file or directory");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, DirectoryAsImageLeavesStoreUntouched) {
  fs::create_directory(dir.path() / "adir");
  EXPECT_ERROR_EQ(publish((dir.path() / "adir").string(), key, options(store(), "2.0")), Errc::kInput,
                  (dir.path() / "adir").string() + ": is a directory");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, UnreadableImageLeavesStoreUntouched) {
  if (::ironstone::testing::is_root()) GTEST_SKIP() << "root reads any file (cli_test covers it as nobody)";
  fs::path p = image("secret.img", sample_image(6));
  fs::permissions(p, fs::perms::none);
  EXPECT_ERROR_EQ(publish(p.string(), key, options(store(), "2.0")), Errc::kInput,
                  p.string() + ": cannot open: Permission denied");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, StoreBusyWithAnotherPublisherIsRefusedAndLeftUntouched) {
  StoreLock other(store());  // another publisher at work
  EXPECT_ERROR_EQ(publish_bytes(sample_image(7), "2.0"), Errc::kBusy,
                  store().string() + ": store is being written by another publisher (" + (store() / ".lock").string() +
                      " is locked); try again when it has finished");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, LockIsReleasedWhenThePublisherEnds) {
  { StoreLock other(store()); }
  EXPECT_NO_THROW(publish_bytes(sample_image(7), "2.0"));
}

TEST_F(BadInputTest, FailureAfterChunksWereStoredRollsBackEverything) {
  // Missing firmware is noticed after every chunk is in the store, for a board's first release.
  PublishOptions o = options(store(), "1.0", "rock5b");
  o.firmware = {{dir.path() / "missing.bin", "spi-nor"}};
  fs::path img = image("rock.img", sample_image(8));
  EXPECT_ERROR_HAS(publish(img.string(), key, o), Errc::kInput,
                   "--firmware: " + (dir.path() / "missing.bin").string() + ": cannot read");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, EmptyFirmwareFileRollsBackEverything) {
  PublishOptions o = options(store(), "2.0");
  write_file(dir.path() / "empty.bin", {});
  o.firmware = {{dir.path() / "empty.bin", "rpi-eeprom"}};
  EXPECT_ERROR_EQ(publish(image("x.img", sample_image(9)).string(), key, o), Errc::kInput,
                  (dir.path() / "empty.bin").string() + ": firmware file is empty");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, AnSbomThatIsNotSpdxJsonIsRefusedAndLeavesStoreUntouched) {
  PublishOptions o = options(store(), "2.0");
  write_file(dir.path() / "bom.json", {'{', '"', 'a', '"', ':', '1', '}'});
  o.sbom = dir.path() / "bom.json";
  EXPECT_ERROR_EQ(publish(image("x.img", sample_image(9)).string(), key, o), Errc::kInput,
                  (dir.path() / "bom.json").string() + ": not an SPDX JSON document (no \"spdxVersion\": \"SPDX-…\")");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(BadInputTest, AnEmptyBuildLogOrAMissingRecipeIsRefusedAndLeavesStoreUntouched) {
  PublishOptions o = options(store(), "2.0");
  write_file(dir.path() / "empty.log", {});
  o.build_log = dir.path() / "empty.log";
  EXPECT_ERROR_EQ(publish(image("x.img", sample_image(9)).string(), key, o), Errc::kInput,
                  "--build-log " + (dir.path() / "empty.log").string() + ": file is empty");
  o.build_log.clear();
  o.recipe = dir.path() / "no-such.yaml";
  EXPECT_ERROR_EQ(publish(image("x.img", sample_image(9)).string(), key, o), Errc::kInput,
                  "--recipe: " + (dir.path() / "no-such.yaml").string() + ": cannot read: No such file or directory");
  EXPECT_STORE_UNCHANGED(before, store());
}

// A full disk: the store on a 2 MiB tmpfs (needs root to mount).
class FullDiskTest : public PublishTest {
 protected:
  void SetUp() override {
    if (!::ironstone::testing::is_root()) GTEST_SKIP() << "mounting a tmpfs needs root";
    fs::create_directory(store());
    if (::mount("tmpfs", store().c_str(), "tmpfs", 0, "size=2m") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    mounted = true;
  }
  void TearDown() override {
    if (mounted) ::umount2(store().c_str(), MNT_DETACH);
  }
  bool mounted = false;
};

TEST_F(FullDiskTest, FullDiskInTheStoreIsAClearErrorAndLeavesStoreUntouched) {
  publish_bytes(pseudo_random(4 * kChunk, 30), "1.0");  // fits
  auto before = snapshot(store());
  // 4 MiB of random data does not fit in what is left of 2 MiB.
  EXPECT_ERROR_HAS(publish_bytes(pseudo_random(64 * kChunk, 31), "2.0"), Errc::kStore, ": No space left on device");
  EXPECT_STORE_UNCHANGED(before, store());
  // And the store still works once there is room.
  EXPECT_NO_THROW(publish_bytes(pseudo_random(2 * kChunk, 32), "2.0"));
}

TEST_F(FullDiskTest, FullDiskWhileWritingTheReleaseFilesRollsBack) {
  publish_bytes(pseudo_random(4 * kChunk, 30), "1.0");
  // Fill the disk up to a few KiB with an unrelated file, then publish compressible data.
  int fd = ::open((store() / "filler").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  std::vector<std::uint8_t> block(4096, 1);
  while (::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size())) {
  }
  ::close(fd);
  auto before = snapshot(store());
  EXPECT_ERROR_HAS(publish_bytes(pseudo_random(8 * kChunk, 33, true), "2.0"), Errc::kStore,
                   ": No space left on device");
  EXPECT_STORE_UNCHANGED(before, store());
}

}  // namespace
}  // namespace ironstone::builder::testing

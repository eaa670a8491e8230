// Tests for the release torrent (manifest/torrent.h): hybrid v1 + v2, private, one piece per chunk
// in chunk-table order, deterministic, and check_torrent() refusing anything else.
#include "manifest/torrent.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <libtorrent/create_torrent.hpp>
#include <libtorrent/hasher.hpp>

#include <cstring>

#include "manifest/layout.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/sample_release.h"
#include "tests/testutil/testutil.h"

namespace ironstone::manifest {
namespace {

namespace fs = std::filesystem;
using ::ironstone::testing::add_stored_chunks;
using ::ironstone::testing::pseudo_random;
using ::ironstone::testing::sample_release_header;
using ::ironstone::testing::TempDir;
using ::testing::HasSubstr;

[[maybe_unused]] const bool kCryptoReady = (init_crypto(), true);

constexpr std::uint32_t kChunk = 65536;

// A store holding the chunk files of a 4-chunk image (one raw, two zstd, a short tail).
class TorrentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::vector<std::uint8_t>> blocks = {
        pseudo_random(kChunk, 1), pseudo_random(kChunk, 2, true), pseudo_random(kChunk, 3, true),
        pseudo_random(1000, 4, true)};
    m = sample_release_header();
    m.image_size = 3 * kChunk + 1000;
    add_stored_chunks(dir.path(), blocks, &m);
    torrent = make_torrent(m, dir.path(), {{"http://nas:8080/"}, {"http://nas:8080/announce"}, 2});
    lt::load_torrent_limits limits;
    lt::torrent_info ti(lt::span<const char>(torrent.data(), static_cast<long>(torrent.size())), limits,
                        lt::from_span);
    m.info_hash_v2 = info_hash_v2(ti);
    validate(m, "test manifest");
  }

  TempDir dir;
  Manifest m;
  std::vector<char> torrent;
};

TEST_F(TorrentTest, TorrentIsHybridPrivateWithOnePiecePerChunkInTableOrder) {
  auto ti = check_torrent(m, torrent, "release.torrent");
  EXPECT_TRUE(ti->info_hashes().has_v1());
  EXPECT_TRUE(ti->info_hashes().has_v2());
  EXPECT_TRUE(ti->priv());
  EXPECT_EQ(ti->piece_length(), static_cast<int>(kChunk));
  EXPECT_EQ(ti->num_pieces(), 4);
  EXPECT_EQ(ti->name(), "chunks");
  auto files = chunk_files(*ti);
  ASSERT_EQ(files.size(), 4u);
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(ti->files().file_path(files[i]), layout::chunk_relpath(m.chunks[i].hash));
    EXPECT_EQ(ti->files().file_size(files[i]), m.chunks[i].stored_size);
    EXPECT_EQ(static_cast<int>(ti->files().piece_index_at_file(files[i])), static_cast<int>(i));
  }
}

TEST_F(TorrentTest, WebSeedAndTrackerAreInTheTorrent) {
  auto ti = check_torrent(m, torrent, "release.torrent");
  ASSERT_EQ(ti->web_seeds().size(), 1u);
  EXPECT_EQ(ti->web_seeds()[0].url, "http://nas:8080/");
  ASSERT_EQ(ti->trackers().size(), 1u);
  EXPECT_EQ(ti->trackers()[0].url, "http://nas:8080/announce");
}

TEST_F(TorrentTest, SameChunksGiveByteIdenticalTorrentsWithoutCreationDate) {
  auto again = make_torrent(m, dir.path(), {{"http://nas:8080/"}, {"http://nas:8080/announce"}, 1});
  EXPECT_EQ(again, torrent);
  std::string text(torrent.begin(), torrent.end());
  EXPECT_EQ(text.find("creation date"), std::string::npos);
  EXPECT_EQ(text.find("created by"), std::string::npos);
}

TEST_F(TorrentTest, InfoHashDoesNotDependOnWebSeedsOrTrackers) {
  auto bare = make_torrent(m, dir.path());
  EXPECT_NO_THROW(check_torrent(m, bare, "bare.torrent"));
}

TEST_F(TorrentTest, InfoHashKnownAnswerPinsTheTorrentLayout) {
  // The chunk data is deterministic (pseudo_random), so the v2 info-hash is a known answer:
  // a change here means every published release would get a different info-hash (it changed
  // once, on purpose, when the torrent became hybrid v1 + v2: docs/release-format.md).
  EXPECT_EQ(m.info_hash_v2, "9378e472e647cb43c0f4b5180f4f3c8dea7b6e1351e425cd9ff0ef311552871d");
}

TEST_F(TorrentTest, PieceHashesComputedWhileWritingGiveTheSameTorrentWithoutReadingFiles) {
  TorrentOptions o{{"http://nas:8080/"}, {"http://nas:8080/announce"}, 2, {}};
  for (const auto& c : m.chunks)
    o.piece_hashes.push_back(
        piece_hashes(::ironstone::testing::read_file(dir.path() / layout::chunk_relpath(c.hash)), kChunk));
  fs::remove_all(dir.path() / "chunks");  // not read
  EXPECT_EQ(make_torrent(m, dir.path(), o), torrent);
  o.piece_hashes.pop_back();
  EXPECT_ERROR_EQ(make_torrent(m, dir.path(), o), Errc::kTorrent, "3 piece hashes for 4 chunks");
}

TEST(TorrentPieceHashes, V1HashCoversThePadZerosUpToThePieceSize) {
  // SHA-1 of "abc" followed by 16381 zero bytes equals SHA-1 of the same 16 KiB buffer.
  std::vector<std::uint8_t> piece(16384, 0);
  piece[0] = 'a', piece[1] = 'b', piece[2] = 'c';
  lt::sha1_hash want = lt::hasher(reinterpret_cast<const char*>(piece.data()), 16384).final();
  PieceHashes h = piece_hashes(std::span(piece.data(), 3), 16384);
  EXPECT_EQ(0, std::memcmp(h.v1.data(), want.data(), 20));
  EXPECT_EQ(h.v2_root.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TorrentPieceRoot, SingleBlockRootIsTheSha256OfTheBlock) {
  // SHA-256("abc") (FIPS 180-2 test vector): a file of one block is its own root.
  const std::string abc = "abc";
  EXPECT_EQ(v2_piece_root({reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size()}).hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Three blocks: the tree is filled with a zero hash to four leaves, as BEP 52 says.
TEST(TorrentMerkleRoot, OddLeavesArePaddedWithZeroHashesToAPowerOfTwo) {
  const lt::sha256_hash a = lt::hasher256("a", 1).final(), b = lt::hasher256("b", 1).final(),
                        c = lt::hasher256("c", 1).final();
  lt::hasher256 ab, c0, root;
  ab.update(a).update(b);
  c0.update(c).update(lt::sha256_hash{});
  root.update(ab.final()).update(c0.final());
  const std::vector<lt::sha256_hash> leaves = {a, b, c};
  EXPECT_EQ(merkle_root(leaves), root.final());
  EXPECT_EQ(merkle_root({}), lt::sha256_hash{});
}

TEST_F(TorrentTest, TorrentForOtherChunksIsRejectedByInfoHash) {
  Manifest other = m;
  other.info_hash_v2 = std::string(64, '0');
  EXPECT_ERROR_EQ(check_torrent(other, torrent, "release.torrent"), Errc::kTorrent,
                  "release.torrent: v2 info-hash " + m.info_hash_v2 + " is not the signed " + other.info_hash_v2);
}

TEST_F(TorrentTest, GarbageAndOversizedTorrentsAreRejected) {
  std::string junk = "d4:infod4:name3:abcee";
  EXPECT_ERROR_HAS(check_torrent(m, std::span<const char>(junk.data(), junk.size()), "release.torrent"),
                   Errc::kTorrent, "release.torrent: not a valid torrent");
  auto truncated = torrent;
  truncated.resize(truncated.size() / 2);
  EXPECT_ERROR_HAS(check_torrent(m, truncated, "release.torrent"), Errc::kTorrent,
                   "release.torrent: not a valid torrent");
  std::vector<char> huge(16 * 1024 * 1024 + 1, 'x');
  EXPECT_ERROR_EQ(check_torrent(m, huge, "release.torrent"), Errc::kTorrent, "release.torrent: larger than 16 MiB");
}

TEST_F(TorrentTest, FlippedByteInTheTorrentIsRejected) {
  // Every byte of the info dictionary is pinned by the signed info-hash.
  std::string text(torrent.begin(), torrent.end());
  std::size_t info = text.find("4:infod");
  ASSERT_NE(info, std::string::npos);
  auto t = torrent;
  t[info + 40] ^= 0x01;
  EXPECT_ERROR_HAS(check_torrent(m, t, "release.torrent"), Errc::kTorrent, "release.torrent: ");
}

// Builds a torrent over the same files with other settings, signs its info-hash into a
// copy of the manifest, and expects check_torrent() to refuse it for `problem`.
class WronglyBuiltTorrent : public TorrentTest {
 protected:
  std::vector<char> build(int piece_size, lt::create_flags_t flags, bool priv) {
    lt::file_storage files;
    for (const Chunk& c : m.chunks) files.add_file(layout::chunk_relpath(c.hash), c.stored_size);
    lt::create_torrent ct(files, piece_size, flags);
    ct.set_priv(priv);
    lt::error_code ec;
    lt::set_piece_hashes(ct, dir.path().string(), ec);
    EXPECT_FALSE(ec) << ec.message();
    auto buf = ct.generate_buf();
    lt::load_torrent_limits limits;
    lt::torrent_info ti(lt::span<const char>(buf.data(), static_cast<long>(buf.size())), limits, lt::from_span);
    signed_m = m;
    signed_m.info_hash_v2 = info_hash_v2(ti);
    return buf;
  }
  Manifest signed_m;
};

TEST_F(WronglyBuiltTorrent, PublicTorrentIsRejected) {
  auto t = build(kChunk, {}, false);
  EXPECT_ERROR_EQ(check_torrent(signed_m, t, "release.torrent"), Errc::kTorrent, "release.torrent: not private");
}

TEST_F(WronglyBuiltTorrent, V2OnlyTorrentIsRejected) {
  auto t = build(kChunk, lt::create_torrent::v2_only, true);
  EXPECT_ERROR_EQ(check_torrent(signed_m, t, "release.torrent"), Errc::kTorrent,
                  "release.torrent: v2-only torrent (no v1 piece hashes): libtorrent 2.0.8 cannot recover from a "
                  "bad piece in it; publish the release again");
}

TEST_F(WronglyBuiltTorrent, PieceSizeOtherThanTheChunkSizeIsRejected) {
  auto t = build(2 * kChunk, {}, true);
  EXPECT_ERROR_EQ(check_torrent(signed_m, t, "release.torrent"), Errc::kTorrent,
                  "release.torrent: piece size 131072 is not the chunk size 65536");
}

TEST_F(TorrentTest, MissingChunkFileFailsNamingTheStore) {
  fs::remove(dir.path() / layout::chunk_relpath(m.chunks[2].hash));
  EXPECT_ERROR_HAS(make_torrent(m, dir.path()), Errc::kIo,
                   dir.path().string() + ": hashing chunk files for the torrent: ");
}

TEST(TorrentEmpty, ReleaseWithoutChunksHasNoTorrent) {
  Manifest m;
  m.chunk_size = kChunk;
  EXPECT_ERROR_EQ(make_torrent(m, "/nonexistent"), Errc::kTorrent,
                  "release has no non-zero chunks: nothing to put in a torrent");
}

}  // namespace
}  // namespace ironstone::manifest

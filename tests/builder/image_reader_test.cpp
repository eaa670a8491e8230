// Tests for reading images to publish (builder/image_reader.h): raw, zstd and xz by magic
// bytes, sparse holes, pipes, and truncated or corrupt input named with file and offset.
#include "builder/image_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "builder/errc.h"
#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

// Reads the whole image with reads of `block` bytes; counts the bytes reported as holes.
std::vector<std::uint8_t> read_all(ImageReader& r, std::size_t block, std::uint64_t* hole_bytes = nullptr) {
  std::vector<std::uint8_t> out, buf(block);
  for (;;) {
    bool hole = true;
    std::size_t n = r.read(buf, &hole);
    if (n == 0) break;
    if (hole) {
      if (hole_bytes) *hole_bytes += n;
      out.insert(out.end(), n, 0);
    } else {
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  return out;
}

class ImageReaderTest : public ::testing::Test {
 protected:
  fs::path put(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    fs::path p = dir.path() / name;
    write_file(p, bytes);
    return p;
  }
  fs::path compress(const std::string& tool, const fs::path& raw) {
    fs::path out = raw.string() + (tool == "zstd" ? ".zst" : ".xz");
    std::string cmd = tool == "zstd" ? "zstd -q -3 -f " + raw.string() + " -o " + out.string()
                                     : "xz -q -k -f -1 " + raw.string();
    EXPECT_EQ(run_command(cmd), 0) << cmd;
    return out;
  }
  TempDir dir;
};

TEST_F(ImageReaderTest, RawFileIsReadAsIsWithItsSize) {
  auto img = sample_image();
  auto r = open_image(put("a.img", img).string());
  EXPECT_EQ(r->format(), ImageFormat::kRaw);
  EXPECT_EQ(r->size_hint(), img.size());
  EXPECT_EQ(read_all(*r, kChunk), img);
  EXPECT_EQ(r->input_position(), img.size());
  EXPECT_FALSE(r->source_hash());
}

TEST_F(ImageReaderTest, ZstdImageIsDetectedByMagicAndDecompressed) {
  auto img = sample_image();
  fs::path z = compress("zstd", put("a.img", img));
  auto r = open_image(z.string());
  EXPECT_EQ(r->format(), ImageFormat::kZstd);
  EXPECT_EQ(read_all(*r, kChunk), img);
  ASSERT_TRUE(r->source_hash());
  EXPECT_EQ(*r->source_hash(), blake2b256(read_file(z)));
  EXPECT_EQ(r->input_position(), fs::file_size(z));
}

TEST_F(ImageReaderTest, XzImageIsDetectedByMagicAndDecompressed) {
  auto img = sample_image();
  fs::path x = compress("xz", put("a.img", img));
  auto r = open_image(x.string());
  EXPECT_EQ(r->format(), ImageFormat::kXz);
  EXPECT_EQ(read_all(*r, kChunk), img);
  ASSERT_TRUE(r->source_hash());
  EXPECT_EQ(*r->source_hash(), blake2b256(read_file(x)));
}

TEST_F(ImageReaderTest, CompressedImagesOfAwkwardSizesDecompressExactly) {
  // Sizes around the chunk and zstd block (128 KiB) boundaries, read with several buffer sizes.
  for (std::size_t size : {std::size_t{1}, std::size_t{kChunk - 1}, std::size_t{kChunk}, std::size_t{kChunk + 1},
                           std::size_t{128 * 1024}, std::size_t{3 * kChunk + 12345}, std::size_t{1 << 20}}) {
    auto img = concat({pseudo_random(size / 2, size, true), pseudo_random(size - size / 2, size + 1)});
    fs::path raw = put("s" + std::to_string(size) + ".img", img);
    for (const char* tool : {"zstd", "xz"}) {
      fs::path c = compress(tool, raw);
      for (std::size_t block : {std::size_t{kChunk}, std::size_t{4096}, std::size_t{1 << 20}}) {
        SCOPED_TRACE(std::string(tool) + " size " + std::to_string(size) + " block " + std::to_string(block));
        auto r = open_image(c.string());
        try {
          EXPECT_EQ(read_all(*r, block), img);
        } catch (const Error& e) {
          ADD_FAILURE() << e.what();
        }
      }
    }
  }
}

TEST_F(ImageReaderTest, ConcatenatedZstdFramesAreOneImage) {
  auto a = pseudo_random(100000, 1, true), b = pseudo_random(50000, 2);
  fs::path za = compress("zstd", put("a", a)), zb = compress("zstd", put("b", b));
  auto joined = concat({read_file(za), read_file(zb)});
  auto r = open_image(put("ab.zst", joined).string());
  EXPECT_EQ(read_all(*r, kChunk), concat({a, b}));
}

TEST_F(ImageReaderTest, TruncatedZstdIsAnErrorNamingFileAndOffset) {
  fs::path z = compress("zstd", put("a.img", sample_image()));
  for (std::uintmax_t cut : {std::uintmax_t{1}, std::uintmax_t{100}, fs::file_size(z) / 2}) {
    fs::path t = dir.path() / ("cut" + std::to_string(cut) + ".zst");
    auto bytes = read_file(z);
    bytes.resize(bytes.size() - cut);
    write_file(t, bytes);
    auto r = open_image(t.string());
    EXPECT_ERROR_EQ(read_all(*r, kChunk), Errc::kInput,
                    t.string() + ": zstd stream truncated at input offset " + hex_offset(bytes.size()));
  }
}

TEST_F(ImageReaderTest, TruncatedXzIsAnErrorNamingFileAndOffset) {
  fs::path x = compress("xz", put("a.img", sample_image()));
  for (std::uintmax_t cut : {std::uintmax_t{1}, std::uintmax_t{100}, fs::file_size(x) / 2}) {
    fs::path t = dir.path() / ("cut" + std::to_string(cut) + ".xz");
    auto bytes = read_file(x);
    bytes.resize(bytes.size() - cut);
    write_file(t, bytes);
    auto r = open_image(t.string());
    EXPECT_ERROR_EQ(read_all(*r, kChunk), Errc::kInput,
                    t.string() + ": xz stream truncated at input offset " + hex_offset(bytes.size()));
  }
}

TEST_F(ImageReaderTest, TrailingGarbageAfterZstdIsCorrupt) {
  fs::path z = compress("zstd", put("a.img", sample_image()));
  auto bytes = concat({read_file(z), std::vector<std::uint8_t>(64, 0x41)});
  fs::path t = put("trail.zst", bytes);
  auto r = open_image(t.string());
  EXPECT_ERROR_HAS(read_all(*r, kChunk), Errc::kInput, t.string() + ": zstd stream corrupt (");
}

TEST_F(ImageReaderTest, TrailingGarbageAfterXzIsCorrupt) {
  fs::path x = compress("xz", put("a.img", sample_image()));
  auto bytes = concat({read_file(x), std::vector<std::uint8_t>(64, 0x41)});
  fs::path t = put("trail.xz", bytes);
  auto r = open_image(t.string());
  EXPECT_ERROR_HAS(read_all(*r, kChunk), Errc::kInput, t.string() + ": xz stream corrupt (");
}

TEST_F(ImageReaderTest, SparseHolesAreReportedWithoutReading) {
  fs::path p = dir.path() / "sparse.img";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64 * kChunk + 100), 0);
  auto data = pseudo_random(kChunk, 3);
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 10 * kChunk), static_cast<ssize_t>(kChunk));
  ::close(fd);
  auto r = open_image(p.string());
  std::uint64_t holes = 0;
  auto out = read_all(*r, kChunk, &holes);
  ASSERT_EQ(out.size(), 64 * kChunk + 100);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), out.begin() + 10 * kChunk));
  // Filesystems allocate in pages, so only blocks far from the data are sure to be holes.
  EXPECT_GE(holes, 60u * kChunk);
  // Random access: hole_at() answers without reading; read_at() without a hole flag reads zeros.
  EXPECT_TRUE(r->hole_at(30 * kChunk, 20 * kChunk));
  EXPECT_FALSE(r->hole_at(9 * kChunk, 2 * kChunk));
  std::vector<std::uint8_t> buf(2 * kChunk, 0xEE);
  ASSERT_EQ(r->read_at(9 * kChunk, buf, nullptr), 2 * kChunk);
  EXPECT_TRUE(std::all_of(buf.begin(), buf.begin() + kChunk, [](std::uint8_t b) { return b == 0; }));
  EXPECT_TRUE(std::equal(data.begin(), data.end(), buf.begin() + kChunk));
}

TEST_F(ImageReaderTest, RawFileIsReadAtRandomOffsetsFromSeveralThreadsAtOnce) {
  auto img = concat({pseudo_random(5 * kChunk, 12), pseudo_random(77, 13)});
  auto r = open_image(put("ra.img", img).string());
  ASSERT_TRUE(r->random_access());
  const std::size_t blocks = (img.size() + kChunk - 1) / kChunk;
  std::vector<std::vector<std::uint8_t>> got(blocks);
  auto reader = [&](std::size_t first) {  // one thread takes the even blocks, one the odd, backwards
    for (std::size_t b = blocks - 1 - first;; b -= 2) {
      std::vector<std::uint8_t> buf(kChunk);
      bool hole = true;
      buf.resize(r->read_at(b * kChunk, buf, &hole));
      EXPECT_FALSE(hole);
      got[b] = buf;
      if (b < 2) break;
    }
  };
  std::thread a(reader, 0), b(reader, 1);
  a.join();
  b.join();
  std::vector<std::uint8_t> out;
  for (const auto& g : got) out.insert(out.end(), g.begin(), g.end());
  EXPECT_EQ(out, img);
  EXPECT_EQ(got.back().size(), 77u);  // the short tail
  std::vector<std::uint8_t> buf(kChunk);
  bool hole = false;
  EXPECT_EQ(r->read_at(img.size(), buf, &hole), 0u);  // at the end
  EXPECT_EQ(read_all(*r, kChunk), img);  // read() keeps its own position
}

TEST_F(ImageReaderTest, CompressedImagesAndPipesAreReadInOrderOnly) {
  auto r = open_image(compress("zstd", put("c.img", sample_image())).string());
  EXPECT_FALSE(r->random_access());
  std::vector<std::uint8_t> buf(kChunk);
  bool hole = false;
  EXPECT_THROW(r->read_at(0, buf, &hole), std::logic_error);
}

TEST_F(ImageReaderTest, FileThatShrinksIsTruncatedForRandomAccessToo) {
  fs::path p = put("shrink-ra.img", pseudo_random(4 * kChunk, 14));
  auto r = open_image(p.string());
  fs::resize_file(p, 2 * kChunk + 10);
  std::vector<std::uint8_t> buf(kChunk);
  bool hole = false;
  EXPECT_ERROR_EQ(r->read_at(2 * kChunk, buf, &hole), Errc::kInput,
                  p.string() + ": truncated: ends at 0x2000A, expected 262144 bytes");
}

TEST_F(ImageReaderTest, PipeIsReadAsARawStream) {
  fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto img = sample_image();
  std::thread writer([&] { write_file(fifo, img); });
  auto r = open_image(fifo.string());
  EXPECT_EQ(r->format(), ImageFormat::kRaw);
  EXPECT_FALSE(r->size_hint());
  auto out = read_all(*r, kChunk);
  writer.join();
  EXPECT_EQ(out, img);
}

TEST_F(ImageReaderTest, CompressedStreamFromAPipeIsDetected) {
  fs::path z = compress("zstd", put("a.img", sample_image()));
  fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto bytes = read_file(z);
  std::thread writer([&] { write_file(fifo, bytes); });
  auto r = open_image(fifo.string());
  EXPECT_EQ(r->format(), ImageFormat::kZstd);
  auto out = read_all(*r, kChunk);
  writer.join();
  EXPECT_EQ(out, sample_image());
}

TEST_F(ImageReaderTest, TinyFilesShorterThanAnyMagicAreRaw) {
  auto r = open_image(put("two", {0x28, 0xB5}).string());
  EXPECT_EQ(r->format(), ImageFormat::kRaw);
  EXPECT_EQ(read_all(*r, kChunk), (std::vector<std::uint8_t>{0x28, 0xB5}));
}

TEST_F(ImageReaderTest, MissingFileAndDirectoryAreClearErrors) {
  EXPECT_ERROR_EQ(open_image((dir.path() / "none").string()), Errc::kInput,
                  (dir.path() / "none").string() + ": cannot open: No such file or directory");
  EXPECT_ERROR_EQ(open_image(dir.path().string()), Errc::kInput, dir.path().string() + ": is a directory");
}

TEST_F(ImageReaderTest, FileThatShrinksWhileReadIsTruncated) {
  fs::path p = put("shrink.img", pseudo_random(4 * kChunk, 4));
  auto r = open_image(p.string());
  fs::resize_file(p, 2 * kChunk + 10);
  EXPECT_ERROR_EQ(read_all(*r, kChunk), Errc::kInput,
                  p.string() + ": truncated: ends at 0x2000A, expected 262144 bytes");
}

}  // namespace
}  // namespace ironstone::builder::testing

// publish refuses input that is not a disk image (publish_input.h): a text file, a program, a
// truncated image — raw, compressed or piped — with an exact error and the store untouched,
// unless --raw says the bytes are meant as they are.
#include "builder/publish_input.h"

#include "builder/errc.h"
#include "builder/publish.h"
#include "tests/builder/builder_testing.h"
#include "tests/testutil/disk_image.h"

namespace ironstone::builder::testing {
namespace {

constexpr const char* kAdvice = " (publish a whole-disk image, or pass --raw to publish these bytes as they are)";

class PublishInputTest : public ::testing::Test {
 protected:
  fs::path store() const { return dir.path() / "store"; }
  static PublishOptions checked(const fs::path& store) {
    PublishOptions o = options(store);
    o.raw = false;
    return o;
  }
  fs::path file(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    write_file(dir.path() / name, bytes);
    return dir.path() / name;
  }
  // Nothing of a refused publish is left: no release, no chunk, no pointer, no store layout.
  void expect_store_untouched() const { EXPECT_FALSE(fs::exists(store())) << store(); }

  TempDir dir;
};

TEST_F(PublishInputTest, ATextFileIsRefusedAndTheStoreIsUntouched) {
  const std::string text = "hello, this is not a disk\n";
  const fs::path f = file("notes.txt", std::vector<std::uint8_t>(text.begin(), text.end()));
  EXPECT_ERROR_EQ(publish(f.string(), test_key(), checked(store())), Errc::kNotDiskImage,
                  "not a disk image: " + f.string() + ": image is too small to hold a partition table (26 bytes)" +
                      kAdvice);
  expect_store_untouched();
}

TEST_F(PublishInputTest, AProgramIsRefused) {
  const fs::path f = file("true", read_file("/bin/true"));
  EXPECT_ERROR_EQ(publish(f.string(), test_key(), checked(store())), Errc::kNotDiskImage,
                  "not a disk image: " + f.string() +
                      ": no partition table (no MBR signature, no GPT) and no ext filesystem" + kAdvice);
  expect_store_untouched();
}

TEST_F(PublishInputTest, ATruncatedImageIsRefusedNamingThePartitionPastTheEnd) {
  auto image = sample_image();
  image.resize(4 * kChunk);  // the MBR's partition ends at 9 chunks + 12345 bytes
  const fs::path f = file("truncated.img", image);
  try {
    publish(f.string(), test_key(), checked(store()));
    ADD_FAILURE() << "a truncated image was published";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kNotDiskImage));
    EXPECT_THAT(e.what(), ::testing::StartsWith("not a disk image: " + f.string() + ": partition 1 "));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("past the end"));
    EXPECT_THAT(e.what(), ::testing::EndsWith(kAdvice));
  }
  expect_store_untouched();
}

TEST_F(PublishInputTest, ABareFilesystemOrAnEmptyTableIsNotADiskImage) {
  auto image = sample_image();
  std::fill(image.begin() + 446, image.begin() + 510, 0);  // the signature stays, no partition
  const fs::path f = file("empty-table.img", image);
  EXPECT_ERROR_EQ(publish(f.string(), test_key(), checked(store())), Errc::kNotDiskImage,
                  f.string() + ": not a disk image: the MBR table has no partitions" + std::string(kAdvice));
  expect_store_untouched();
}

TEST_F(PublishInputTest, RawPublishesBytesThatAreNotADiskImage) {
  const fs::path f = file("firmware.bin", pseudo_random(3 * kChunk + 17, 9));
  PublishOptions o = checked(store());
  o.raw = true;
  const PublishResult r = publish(f.string(), test_key(), o);
  EXPECT_EQ(r.manifest.image_size, 3 * kChunk + 17);
  EXPECT_EQ(rebuild(store(), r.manifest), read_file(f));
}

TEST_F(PublishInputTest, CompressedInputThatIsNotADiskImageIsRefusedAfterDecompression) {
  const fs::path f = file("random.img", pseudo_random(5 * kChunk, 4));
  ironstone::testing::sh("zstd -q -1 --rm " + f.string() + " -o " + f.string() + ".zst");
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_ERROR_EQ(publish(f.string() + ".zst", test_key(), checked(store())), Errc::kNotDiskImage,
                  "not a disk image: " + f.string() + ".zst (zstd): no partition table (no MBR signature, no GPT) "
                  "and no ext filesystem" + kAdvice);
  // The chunks it wrote while reading are removed again, and so is the temporary copy.
  EXPECT_TRUE(fs::is_empty(store() / "chunks")) << store();
  EXPECT_FALSE(fs::exists(store() / "releases" / "rpi5" / "1.0"));
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    EXPECT_EQ(e.path().filename().string().rfind("ironstone-publish-", 0), std::string::npos) << e.path();
}

TEST_F(PublishInputTest, ACompressedDiskImagePublishesAsTheRawOneDoes) {
  const fs::path f = file("gold.img", sample_image());
  ironstone::testing::sh("xz -q -0 -k " + f.string());
  ASSERT_FALSE(HasFatalFailure());
  const PublishResult r = publish(f.string() + ".xz", test_key(), checked(store()));
  EXPECT_EQ(rebuild(store(), r.manifest), sample_image());
}

}  // namespace
}  // namespace ironstone::builder::testing

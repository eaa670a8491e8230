// The state file: highest sequence seen per (board, channel).
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flasher/state.h"
#include "tests/testutil/testutil.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::flasher {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

std::string parse_error(const std::string& text, Errc expected) {
  try {
    parse_state(text, "state.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(expected)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

TEST(SeenState, MissingFileMeansNothingSeen) {
  TempDir dir;
  SeenState s = load_state(dir / "nope" / "state.json");
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.highest("rpi5", "stable"));
}

TEST(SeenState, RecordKeepsTheHighestSequence) {
  SeenState s;
  EXPECT_TRUE(s.record("rpi5", "stable", 10, "v10"));
  EXPECT_FALSE(s.record("rpi5", "stable", 9, "v9"));
  EXPECT_FALSE(s.record("rpi5", "stable", 10, "v10b"));
  EXPECT_TRUE(s.record("rpi5", "stable", 11, "v11"));
  EXPECT_TRUE(s.record("rpi5", "beta", 3, "b3"));
  EXPECT_EQ(s.highest("rpi5", "stable"), (SeenRelease{11, "v11"}));
  EXPECT_EQ(s.highest("rpi5", "beta"), (SeenRelease{3, "b3"}));
  EXPECT_FALSE(s.highest("rock-5b", "stable"));
}

TEST(SeenState, BadNamesAreRefused) {
  SeenState s;
  EXPECT_ERROR_EQ(s.record("RPi5", "stable", 1, "v1"), Errc::kStateField, "state: bad board name 'RPi5'");
  EXPECT_ERROR_EQ(s.record("rpi5", "", 1, "v1"), Errc::kStateField, "state: bad channel name ''");
  EXPECT_ERROR_EQ(s.record("rpi5", "stable", 1, "../x"), Errc::kStateField, "state: bad version '../x'");
}

TEST(SeenState, SaveThenLoadRoundTrips) {
  TempDir dir;
  SeenState s;
  s.record("rpi5", "stable", 42, "2026.11.1");
  s.record("rock-5b", "beta", 18446744073709551615ull, "1.0+rc1");
  fs::path p = dir / "var" / "lib" / "ironstone" / "state.json";
  save_state(p, s);
  EXPECT_EQ(load_state(p), s);
  EXPECT_EQ(testing::read_text(p),
            "{\"format_version\":1,\"seen\":{\"rock-5b\":{\"beta\":{\"sequence\":18446744073709551615,"
            "\"version\":\"1.0+rc1\"}},\"rpi5\":{\"stable\":{\"sequence\":42,\"version\":\"2026.11.1\"}}}}\n");
}

TEST(SeenState, SaveReplacesAtomicallyAndLeavesNoTemporaryFile) {
  TempDir dir;
  fs::path p = dir / "state.json";
  SeenState a;
  a.record("rpi5", "stable", 1, "v1");
  save_state(p, a);
  SeenState b = a;
  b.record("rpi5", "stable", 2, "v2");
  save_state(p, b);
  EXPECT_EQ(load_state(p), b);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(SeenState, SaveIntoUnwritableDirectoryNamesThePath) {
  if (testing::is_root()) GTEST_SKIP() << "root can write into a read-only directory";
  TempDir dir;
  fs::create_directory(dir / "ro");
  ::chmod((dir / "ro").c_str(), 0555);
  try {
    save_state(dir / "ro" / "state.json", SeenState{});
    ADD_FAILURE() << "saved into a read-only directory";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kIo)) << e.what();
    EXPECT_THAT(e.what(), HasSubstr((dir / "ro" / "state.json").string()));
  }
}

TEST(SeenState, CorruptFileIsAnErrorNamingTheFile) {
  TempDir dir;
  fs::path p = dir / "state.json";
  testing::write_text(p, "{\"format_version\":1,\"seen\":{");
  try {
    load_state(p);
    ADD_FAILURE() << "accepted truncated file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kStateParse));
    EXPECT_THAT(e.what(), HasSubstr(p.string() + ": not valid JSON"));
  }
}

TEST(SeenState, StrictParsingNamesTheField) {
  EXPECT_THAT(parse_error("[]", Errc::kStateField), HasSubstr("field '(root)'"));
  EXPECT_THAT(parse_error("{\"seen\":{}}", Errc::kStateField), HasSubstr("field 'format_version': missing"));
  EXPECT_THAT(parse_error("{\"format_version\":2,\"seen\":{}}", Errc::kStateField),
              HasSubstr("field 'format_version': unsupported value 2"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{},\"extra\":0}", Errc::kStateField),
              HasSubstr("field 'extra': unknown field"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{\"rpi5\":{\"stable\":{\"sequence\":-1,\"version\":\"v\"}}}}",
                          Errc::kStateField),
              HasSubstr("state.json: field 'seen.rpi5.stable.sequence': expected an unsigned integer"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{\"rpi5\":{\"stable\":{\"sequence\":1.5,\"version\":\"v\"}}}}",
                          Errc::kStateField),
              HasSubstr("'seen.rpi5.stable.sequence'"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{\"rpi5\":{\"stable\":{\"sequence\":1}}}}", Errc::kStateField),
              HasSubstr("'seen.rpi5.stable.version': missing"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{\"Bad_Board\":{}}}", Errc::kStateField),
              HasSubstr("'seen.Bad_Board': bad board name"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{\"rpi5\":{\"stable\":{\"sequence\":1,\"version\":\"v\",\"x\":1}}}}",
                          Errc::kStateField),
              HasSubstr("'seen.rpi5.stable.x': unknown field"));
}

TEST(SeenState, DuplicateKeysAreRefused) {
  EXPECT_THAT(parse_error("{\"format_version\":1,\"format_version\":1,\"seen\":{}}", Errc::kStateField),
              HasSubstr("field 'format_version': duplicate key"));
  EXPECT_THAT(parse_error("{\"format_version\":1,\"seen\":{\"rpi5\":{\"stable\":{\"sequence\":9,\"version\":\"a\"},"
                          "\"stable\":{\"sequence\":1,\"version\":\"b\"}}}}",
                          Errc::kStateField),
              HasSubstr("field 'seen.rpi5.stable': duplicate key"));
}

TEST(SeenState, TrailingBytesAndOversizedFilesAreRefused) {
  parse_error("{\"format_version\":1,\"seen\":{}} x", Errc::kStateParse);
  std::string big = "{\"format_version\":1,\"seen\":{}}" + std::string(kMaxStateFileBytes, ' ');
  EXPECT_THAT(parse_error(big, Errc::kTooLarge), HasSubstr("exceed the limit"));
}

}  // namespace
}  // namespace ironstone::flasher

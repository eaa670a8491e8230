// ReloadingFile (seeder/reloading_file.h): reloads on a change of any watched file, and the
// two policies for a bad version: the inventory keeps its last good one, the enrolment keys
// fail closed. Changes are made with rewrite_text (a new modification time at once), so no
// test waits for the clock.
#include "seeder/reloading_file.h"

#include <gtest/gtest.h>

#include <string>

#include "manifest/hash.h"
#include "seeder/enrolment_keys.h"
#include "seeder/errc.h"
#include "swarm/enrolment.h"
#include "tests/testutil/testutil.h"

namespace ironstone::seeder {
namespace {

namespace fs = std::filesystem;
using ironstone::testing::rewrite_text;
using ironstone::testing::TempDir;
using ironstone::testing::write_text;

// A text document from `path` (and from `extra` when the text is "include"); "bad" and a
// missing file do not load. Counts the loads.
template <WhenBad kPolicy>
struct TextFile {
  using File = ReloadingFile<std::string, kPolicy>;
  TextFile(fs::path path, fs::path extra = {})
      : file({path},
             [this, path, extra] {
               ++loads;
               if (!fs::exists(path)) throw error(Errc::kConfig, path.string() + ": cannot read");
               const std::string text = ironstone::testing::read_text(path);
               if (text == "bad") throw error(Errc::kConfig, path.string() + ": bad version");
               if (text == "include")
                 return typename File::Loaded{std::make_shared<const std::string>(ironstone::testing::read_text(extra)),
                                              {path, extra}};
               return typename File::Loaded{std::make_shared<const std::string>(text), {path}};
             },
             typename File::Hooks{}) {}
  int loads = 0;
  File file;
};

class Reloading : public ::testing::Test {
 protected:
  void SetUp() override { write_text(path, "one"); }
  TempDir dir;
  fs::path path = dir.path() / "doc";
};

TEST_F(Reloading, AnUnchangedFileIsNotLoadedAgain) {
  TextFile<WhenBad::kKeepLastGood> t(path);
  EXPECT_EQ(*t.file.current(), "one");
  EXPECT_EQ(*t.file.current(), "one");
  EXPECT_EQ(t.loads, 1);
  EXPECT_EQ(t.file.snapshot().status.reloads, 0u);
}

TEST_F(Reloading, AChangedFileIsLoadedAgainOnTheNextCall) {
  TextFile<WhenBad::kKeepLastGood> t(path);
  rewrite_text(path, "two");
  EXPECT_EQ(*t.file.current(), "two");
  EXPECT_EQ(t.loads, 2);
  EXPECT_EQ(t.file.snapshot().status.reloads, 1u);
  EXPECT_EQ(t.file.snapshot().status.error, "");
}

TEST_F(Reloading, KeepLastGoodServesTheLastGoodVersionWhileTheFileIsBad) {
  TextFile<WhenBad::kKeepLastGood> t(path);
  rewrite_text(path, "bad");
  EXPECT_EQ(*t.file.current(), "one");
  EXPECT_EQ(t.file.snapshot().status.error, path.string() + ": bad version");
  EXPECT_EQ(*t.file.current(), "one");
  EXPECT_EQ(t.loads, 2) << "a bad version is loaded (and logged) once";
  rewrite_text(path, "three");
  EXPECT_EQ(*t.file.current(), "three");
  EXPECT_EQ(t.file.snapshot().status.error, "");
}

TEST_F(Reloading, FailClosedServesNothingWhileTheFileIsBad) {
  TextFile<WhenBad::kFailClosed> t(path);
  rewrite_text(path, "bad");
  EXPECT_EQ(*t.file.current(), "");
  EXPECT_EQ(t.file.snapshot().status.error, path.string() + ": bad version");
  rewrite_text(path, "three");
  EXPECT_EQ(*t.file.current(), "three");
  EXPECT_EQ(t.file.snapshot().status.error, "");
}

TEST_F(Reloading, AVanishedFileIsABadVersionForEitherPolicy) {
  TextFile<WhenBad::kKeepLastGood> keep(path);
  TextFile<WhenBad::kFailClosed> closed(path);
  fs::remove(path);
  EXPECT_EQ(*keep.file.current(), "one");
  EXPECT_EQ(*closed.file.current(), "");
  EXPECT_NE(keep.file.snapshot().status.error, "");
  EXPECT_NE(closed.file.snapshot().status.error, "");
}

TEST_F(Reloading, EveryFileTheLoaderNamesIsWatched) {
  const fs::path extra = dir.path() / "extra";
  write_text(extra, "from extra");
  rewrite_text(path, "include");
  TextFile<WhenBad::kKeepLastGood> t(path, extra);
  EXPECT_EQ(*t.file.current(), "from extra");
  rewrite_text(extra, "extra changed");
  EXPECT_EQ(*t.file.current(), "extra changed");
  EXPECT_EQ(t.loads, 2);
}

TEST_F(Reloading, ABadFileAtStartUpThrows) {
  write_text(path, "bad");
  EXPECT_THROW(TextFile<WhenBad::kKeepLastGood>{path}, Error);
  EXPECT_THROW(TextFile<WhenBad::kFailClosed>{path}, Error);
}

// The enrolment keys file through the same helper: a broken version trusts no card (not
// the last good keys), and fixing it trusts the cards again.
TEST(EnrolmentKeysReload, ABrokenVersionTrustsNoCardUntilItIsFixed) {
  ironstone::init_crypto();
  const std::string card = swarm::card_public_hex(swarm::make_card_key().public_key);
  TempDir dir;
  const fs::path path = dir.path() / "enrolment-keys";
  write_text(path, card + " card-01\n");
  EnrolmentKeysFile keys(path);
  EXPECT_EQ(keys.current()->count(card), 1u);
  rewrite_text(path, card + " card-01\nnot-a-key\n");
  EXPECT_TRUE(keys.current()->empty());
  EXPECT_EQ(keys.error(), "--enrolment-keys " + path.string() +
                              ": line 2: expected a card key (64 hex digits) and a name");
  rewrite_text(path, card + " card-01\n");
  EXPECT_EQ(keys.current()->count(card), 1u);
  EXPECT_EQ(keys.error(), "");
}

}  // namespace
}  // namespace ironstone::seeder

#include "seeder/enrolment_keys.h"

#include <spdlog/spdlog.h>

#include <fstream>

#include "seeder/errc.h"
#include "swarm/enrolment.h"
#include "util/file.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxKeysFileBytes = 4 << 20;
}

EnrolmentKeysFile::File::Loaded EnrolmentKeysFile::load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw seeder::error(Errc::kConfig, "--enrolment-keys " + path.string() + ": cannot read");
  const std::string text = util::read_up_to(in, kMaxKeysFileBytes + 1);
  if (text.size() > kMaxKeysFileBytes)
    throw seeder::error(Errc::kConfig, "--enrolment-keys " + path.string() + ": larger than 4 MiB");
  try {
    return {std::make_shared<const Keys>(swarm::parse_enrolment_keys(text, path.string())), {path}};
  } catch (const Error& e) {
    throw seeder::error(Errc::kConfig, std::string("--enrolment-keys ") + e.what());
  }
}

EnrolmentKeysFile::EnrolmentKeysFile(fs::path path)
    : path_(std::move(path)),
      file_({path_}, [p = path_] { return load(p); },
            File::Hooks{.reloaded =
                            [p = path_](const Keys& keys) {
                              spdlog::info("enrolment keys {}: reloaded, {} cards", p.string(), keys.size());
                            },
                        .failed =
                            [](const Error& e, const Keys&) {
                              spdlog::error("enrolment keys: {}; no card is trusted until it is fixed", e.what());
                            }}) {
  spdlog::info("enrolment keys {}: {} cards", path_.string(), file_.current()->size());
}

}  // namespace ironstone::seeder

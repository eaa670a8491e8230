#include "seeder/enrolment_keys.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>

#include "seeder/errc.h"
#include "swarm/enrolment.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxKeysFileBytes = 4 << 20;
}

EnrolmentKeysFile::Stamp EnrolmentKeysFile::stamp() const {
  struct stat st {};
  Stamp s;
  if (::stat(path_.c_str(), &st) == 0) {
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.inode = static_cast<std::uint64_t>(st.st_ino);
  }
  return s;
}

std::shared_ptr<const EnrolmentKeysFile::Keys> EnrolmentKeysFile::load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw seeder::error(Errc::kConfig, "--enrolment-keys " + path_.string() + ": cannot read");
  std::string text(kMaxKeysFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKeysFileBytes)
    throw seeder::error(Errc::kConfig, "--enrolment-keys " + path_.string() + ": larger than 4 MiB");
  try {
    return std::make_shared<const Keys>(swarm::parse_enrolment_keys(text, path_.string()));
  } catch (const Error& e) {
    throw seeder::error(Errc::kConfig, std::string("--enrolment-keys ") + e.what());
  }
}

EnrolmentKeysFile::EnrolmentKeysFile(fs::path path) : path_(std::move(path)) {
  loaded_ = stamp();
  keys_ = load();
  spdlog::info("enrolment keys {}: {} cards", path_.string(), keys_->size());
}

std::shared_ptr<const EnrolmentKeysFile::Keys> EnrolmentKeysFile::current() {
  std::lock_guard lock(mutex_);
  const Stamp now = stamp();
  if (now == loaded_) return keys_;
  loaded_ = now;  // stamp first: a change while reading is seen by the next call
  try {
    keys_ = load();
    error_.clear();
    spdlog::info("enrolment keys {}: reloaded, {} cards", path_.string(), keys_->size());
  } catch (const Error& e) {
    keys_ = std::make_shared<const Keys>();
    error_ = e.what();
    spdlog::error("enrolment keys: {}; no card is trusted until it is fixed", e.what());
  }
  return keys_;
}

std::string EnrolmentKeysFile::error() {
  (void)current();
  std::lock_guard lock(mutex_);
  return error_;
}

}  // namespace ironstone::seeder

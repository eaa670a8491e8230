#include "builder/enrolment.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "builder/errc.h"
#include "manifest/hash.h"
#include "util/hex.h"
#include "swarm/enrolment.h"

namespace ironstone::builder {

namespace {

void write_all(int fd, const std::string& text, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw error(Errc::kStore, path.string() + ": write: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

CardEnrolment make_card_enrolment(const std::string& name) {
  init_crypto();
  const bool printable = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isprint(static_cast<unsigned char>(c)) != 0;
  });
  if (!printable || (!name.empty() && (name.front() == ' ' || name.back() == ' ')))
    throw error(Errc::kUsage, "--card-name '" + name + "': expected one line of printable text");
  auto keys = swarm::make_card_key();
  CardEnrolment card;
  card.public_hex = swarm::card_public_hex(keys.public_key);
  card.name = name.empty() ? "card-" + card.public_hex.substr(0, 8) : name;
  card.public_line = card.public_hex + " " + card.name;
  card.secret_text = swarm::serialize_card_secret(keys.secret_key);
  sodium_memzero(keys.secret_key.data(), keys.secret_key.size());
  return card;
}

void record_enrolment(const std::filesystem::path& keys_file, const CardEnrolment& card) {
  const int fd = ::open(keys_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw error(Errc::kStore, keys_file.string() + ": cannot open: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::flock(fd, LOCK_EX) != 0) throw error(Errc::kStore, keys_file.string() + ": flock: " + std::strerror(errno));
  write_all(fd, card.public_line + "\n", keys_file);
  if (::fsync(fd) != 0) throw error(Errc::kStore, keys_file.string() + ": fsync: " + std::strerror(errno));
}

void write_card_secret(const std::filesystem::path& path, const CardEnrolment& card) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw error(Errc::kStore, path.string() + ": cannot create: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fchmod(fd, 0600) != 0) throw error(Errc::kStore, path.string() + ": chmod: " + std::strerror(errno));
  write_all(fd, card.secret_text, path);
}

}  // namespace ironstone::builder

#include "seeder/errc.h"

namespace ironstone::seeder {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kConfig:
      return "invalid configuration";
    case Errc::kListen:
      return "cannot listen";
    case Errc::kStore:
      return "store error";
    case Errc::kTorrent:
      return "bad release torrent";
    case Errc::kBadRequest:
      return "bad request";
    case Errc::kTooLarge:
      return "request too large";
    case Errc::kNotFound:
      return "not found";
    case Errc::kSession:
      return "bittorrent session error";
    case Errc::kDatabase:
      return "fleet database error";
    case Errc::kRefused:
      return "push refused";
    case Errc::kUnauthorized:
      return "upload token missing or wrong";
    case Errc::kConflict:
      return "push conflict";
    case Errc::kBusy:
      return "busy";
  }
  return "unknown seeder error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("seeder", describe);
  return cat;
}

}  // namespace ironstone::seeder

// The installer card's enrolment key (swarm/enrolment.h; threat model: README "Trust model";
// docs/first-boot.md): `ironstone-build installer` makes one Ed25519 key pair per card. The
// secret half goes onto the card only (kInstallerEnrolmentKeyPath, mode 0600, named by
// flasher.conf's `enrolment-key`); the public half is printed as the line the seeder's
// --enrolment-keys file takes ("<64 hex> <name>") and, with --enrolment-keys FILE on the
// installer, appended to that file.
// Thread safety: make_card_enrolment() is reentrant; record_enrolment() appends under an
// exclusive flock, so two installers may record into one file at once.
#pragma once

#include <filesystem>
#include <string>

namespace ironstone::builder {

inline constexpr const char* kInstallerEnrolmentKeyPath = "/etc/ironstone/enrolment.key";

struct CardEnrolment {
  std::string name;         // the card's name in the seeder's file
  std::string public_hex;   // 64 hex digits
  std::string public_line;  // "<public_hex> <name>"
  std::string secret_text;  // the secret key file's text: for the card only
};

// A fresh key pair. `name`: one line of printable text without leading/trailing blanks (else
// Errc::kUsage); empty: "card-<first 8 hex digits of the key>".
CardEnrolment make_card_enrolment(const std::string& name);

// Appends public_line + "\n" to `keys_file` (created with mode 0644 if missing) and fsyncs it.
// Throws Errc::kStore naming the file.
void record_enrolment(const std::filesystem::path& keys_file, const CardEnrolment& card);

// Writes the secret key file for staging onto the card: created new, mode 0600 (never another
// mode, not even briefly). Throws Errc::kStore naming the file.
void write_card_secret(const std::filesystem::path& path, const CardEnrolment& card);

}  // namespace ironstone::builder

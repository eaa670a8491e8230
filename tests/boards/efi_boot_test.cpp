#include "boards/efi_boot.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "boards/board.h"
#include "boards/errc.h"
#include "tests/boards/efi_fakes.h"
#include "tests/boards/fake_root.h"

namespace ironstone::boards {
namespace {

namespace fs = std::filesystem;
using ironstone::testing::read_text;
using ironstone::testing::TempDir;

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  std::string digits;
  for (char c : hex)
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) out.push_back(std::stoi(digits.substr(i, 2), nullptr, 16));
  return out;
}

// The ESP of the tests: partition 1 of a GPT, 1 MiB in (LBA 0x800), 100 MiB long (0x32000
// sectors of 512 bytes), unique partition GUID 12345678-9abc-def0-1234-56789abcdef0.
disk::PartitionTable esp_table() {
  disk::PartitionTable t;
  t.kind = disk::TableKind::kGpt;
  disk::Partition esp;
  esp.number = 1;
  esp.offset = 0x800ull * 512;
  esp.size = 0x32000ull * 512;
  esp.type = std::string(kEspTypeGuid);
  esp.uuid = "12345678-9abc-def0-1234-56789abcdef0";
  disk::Partition root;
  root.number = 2;
  root.offset = esp.offset + esp.size;
  root.size = 1ull << 30;
  root.type = "0fc63daf-8483-4772-8e79-3d69d8477de4";
  root.uuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  t.partitions = {esp, root};
  return t;
}

// The EFI_LOAD_OPTION for that ESP, computed by hand from the UEFI Specification 2.10:
// §3.1.3 "Load Options" (EFI_LOAD_OPTION: UINT32 Attributes, UINT16 FilePathListLength,
// CHAR16 Description[] NUL-terminated, EFI_DEVICE_PATH_PROTOCOL FilePathList[]),
// §10.3.5.1 "Hard Drive" media device path (Type 4, SubType 1, Length 42: UINT32 partition
// number, UINT64 start LBA, UINT64 size in LBAs, 16-byte signature = the GPT partition GUID as
// stored in the GPT entry (EFI_GUID byte order: first three fields little-endian), MBRType 2 =
// GPT, SignatureType 2 = GUID), §10.3.5.4 "File Path" (Type 4, SubType 4, Length 4 + the
// NUL-terminated CHAR16 path), §10.3.1 End Entire Device Path (Type 0x7F, SubType 0xFF,
// Length 4). All integers little-endian. This is what `efibootmgr -v` shows as
//   Ironstone NVMe  HD(1,GPT,12345678-9abc-def0-1234-56789abcdef0,0x800,0x32000)/File(\EFI\BOOT\BOOTAA64.EFI)
const char* kLoadOptionHex =
    "01000000"                                                      // Attributes: LOAD_OPTION_ACTIVE
    "6000"                                                          // FilePathListLength: 42 + 50 + 4 = 96
    "4900 7200 6f00 6e00 7300 7400 6f00 6e00 6500 2000 4e00 5600 4d00 6500 0000"  // "Ironstone NVMe\0"
    "0401 2a00"                                                     // HD(), length 42
    "01000000"                                                      //   partition number 1
    "0008000000000000"                                              //   start LBA 0x800
    "0020030000000000"                                              //   size 0x32000 LBAs
    "78563412 bc9a f0de 1234 56789abcdef0"                          //   signature (GUID, EFI byte order)
    "02 02"                                                         //   MBRType GPT, SignatureType GUID
    "0404 3200"                                                     // File(), length 4 + 23 * 2 = 50
    "5c00 4500 4600 4900 5c00 4200 4f00 4f00 5400 5c00 4200 4f00 4f00 5400 4100 4100 3600 3400 2e00 4500 4600 "
    "4900 0000"                                                     //   "\EFI\BOOT\BOOTAA64.EFI\0"
    "7fff 0400";                                                    // End Entire Device Path

class EfiBootOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    efivars = root.path() / "sys/firmware/efi/efivars";
    fs::create_directories(efivars);
  }
  fs::path var_file(const std::string& name) const {
    return efivars / (name + "-" + std::string(kEfiGlobalGuid));
  }
  // Writes a variable file the way efivarfs shows it: attributes, then data.
  void put_var(const std::string& name, const std::vector<std::uint8_t>& data, std::uint32_t attrs = 7) {
    EfivarfsVariables(efivars).write(name, {attrs, data});
  }
  std::vector<std::uint8_t> file_bytes(const std::string& name) const {
    std::string s = read_text(var_file(name));
    return {s.begin(), s.end()};
  }
  std::vector<std::uint8_t> order_bytes(std::initializer_list<std::uint16_t> order) const {
    std::vector<std::uint8_t> out;
    for (auto n : order) out.insert(out.end(), {static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8)});
    return out;
  }
  // Another machine's entry: the UEFI shell on some other partition.
  std::vector<std::uint8_t> other_entry() const {
    HardDriveNode hd{1, 34, 1000, *guid_bytes("00000000-1111-2222-3333-444444444444")};
    return encode_load_option(kLoadOptionActive, "UEFI Shell", hd, "\\EFI\\tools\\shell.efi");
  }
  std::vector<std::uint8_t> ours() const {
    return encode_load_option(kLoadOptionActive, "Ironstone NVMe", esp_node(esp_table(), "test"),
                              "\\EFI\\BOOT\\BOOTAA64.EFI");
  }
  FirmwareResult apply(std::set<std::string> dropped = {}) {
    EfiBootOrderUpdater updater(EfiBootParams{}, [&, dropped] {
      std::unique_ptr<EfiVariables> real = std::make_unique<EfivarfsVariables>(efivars);
      if (!dropped.empty()) real = std::make_unique<testing::DroppingVariables>(std::move(real), dropped);
      return std::make_unique<testing::RecordingVariables>(std::move(real), &writes);
    });
    WrittenDisk disk{"/dev/nvme0n1", esp_table()};
    return updater.apply(nullptr, &disk);
  }

  TempDir root;
  fs::path efivars;
  std::vector<std::string> writes;
};

TEST_F(EfiBootOrder, LoadOptionEncodingMatchesTheHandComputedFixture) {
  EXPECT_EQ(ours(), from_hex(kLoadOptionHex));
  LoadOption o = decode_load_option(from_hex(kLoadOptionHex));
  ASSERT_TRUE(o.valid);
  EXPECT_EQ(o.attributes, kLoadOptionActive);
  EXPECT_EQ(o.description, "Ironstone NVMe");
  EXPECT_EQ(o.file, "\\EFI\\BOOT\\BOOTAA64.EFI");
  ASSERT_TRUE(o.hd);
  EXPECT_EQ(*o.hd, esp_node(esp_table(), "test"));
}

TEST_F(EfiBootOrder, MissingEntryIsCreatedAtTheLowestFreeNumberAndPutFirst) {
  put_var("Boot0000", other_entry());
  put_var("Boot0002", other_entry());
  put_var("BootOrder", order_bytes({0x0000, 0x0002}));
  FirmwareResult r = apply();
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(r.detail,
            "created Boot0001 \"Ironstone NVMe\" HD(1,GPT,12345678-9abc-def0-1234-56789abcdef0,0x800,0x32000)/"
            "File(\\EFI\\BOOT\\BOOTAA64.EFI); BootOrder 0000,0002 -> 0001,0000,0002");
  // efivarfs shape: the attribute word NV|BS|RT, then the load option.
  std::vector<std::uint8_t> want = {7, 0, 0, 0};
  auto option = from_hex(kLoadOptionHex);
  want.insert(want.end(), option.begin(), option.end());
  EXPECT_EQ(file_bytes("Boot0001"), want);
  std::vector<std::uint8_t> order = {7, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00};
  EXPECT_EQ(file_bytes("BootOrder"), order);
  EXPECT_EQ(writes, (std::vector<std::string>{"Boot0001", "BootOrder"}));
}

TEST_F(EfiBootOrder, MissingBootOrderIsCreatedWithTheEntryAlone) {
  FirmwareResult r = apply();
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(file_bytes("BootOrder"), (std::vector<std::uint8_t>{7, 0, 0, 0, 0, 0}));
}

TEST_F(EfiBootOrder, PresentEntryNotFirstIsMovedFirstAndNothingElseChanges) {
  put_var("Boot0000", other_entry());
  put_var("Boot0003", ours());
  put_var("Boot0004", other_entry());
  put_var("BootOrder", order_bytes({0x0004, 0x0000, 0x0003}));
  const auto before = file_bytes("Boot0003");
  FirmwareResult r = apply();
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(r.detail, "BootOrder 0004,0000,0003 -> 0003,0004,0000");
  EXPECT_EQ(writes, (std::vector<std::string>{"BootOrder"}));
  EXPECT_EQ(file_bytes("Boot0003"), before);
  EXPECT_EQ(file_bytes("BootOrder"), (std::vector<std::uint8_t>{7, 0, 0, 0, 3, 0, 4, 0, 0, 0}));
}

TEST_F(EfiBootOrder, AlreadyRightWritesNothing) {
  put_var("Boot0000", other_entry());
  put_var("Boot0005", ours());
  put_var("BootOrder", order_bytes({0x0005, 0x0000}));
  FirmwareResult r = apply();
  EXPECT_EQ(r.outcome, FirmwareOutcome::kAlreadyCurrent);
  EXPECT_EQ(r.detail,
            "Boot0005 HD(1,GPT,12345678-9abc-def0-1234-56789abcdef0,0x800,0x32000)/File(\\EFI\\BOOT\\BOOTAA64.EFI) "
            "is first in BootOrder");
  EXPECT_TRUE(writes.empty());
}

TEST_F(EfiBootOrder, InactiveEntryIsRewrittenInPlace) {
  auto inactive = ours();
  inactive[0] = 0;  // LOAD_OPTION_ACTIVE cleared (e.g. by a firmware menu)
  put_var("Boot0001", inactive);
  put_var("BootOrder", order_bytes({0x0001}));
  FirmwareResult r = apply();
  EXPECT_EQ(r.outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(writes, (std::vector<std::string>{"Boot0001"}));
  EXPECT_EQ(decode_load_option(EfivarfsVariables(efivars).read("Boot0001")->data).attributes, kLoadOptionActive);
}

TEST_F(EfiBootOrder, ReadBackMismatchIsAnError) {
  put_var("Boot0000", other_entry());
  put_var("BootOrder", order_bytes({0x0000}));
  try {
    apply({"BootOrder"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kVerify));
    EXPECT_EQ(std::string(e.what()), efivars.string() +
                                         "/BootOrder: read back 2 bytes that differ from the 4 written (the firmware "
                                         "did not store the variable)");
  }
}

TEST_F(EfiBootOrder, OddLengthBootOrderIsRefused) {
  put_var("BootOrder", {1, 0, 2});
  try {
    apply();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kParse));
    EXPECT_EQ(std::string(e.what()), efivars.string() + "/BootOrder: 3 bytes, not a list of UINT16");
  }
  EXPECT_TRUE(writes.empty());
}

TEST_F(EfiBootOrder, ImageWithoutEspIsRefusedBeforeTouchingVariables) {
  EfiBootOrderUpdater updater(EfiBootParams{}, [&] { return std::make_unique<EfivarfsVariables>(efivars); });
  disk::PartitionTable mbr;
  mbr.kind = disk::TableKind::kMbr;
  WrittenDisk disk{"/dev/nvme0n1", mbr};
  try {
    updater.apply(nullptr, &disk);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kUnsupported));
    EXPECT_EQ(std::string(e.what()), "/dev/nvme0n1: the image has no GPT (MBR table without partitions): UEFI boot "
                                     "entries need a GPT EFI system partition");
  }
  EXPECT_TRUE(fs::is_empty(efivars));
}

TEST_F(EfiBootOrder, UndecodableEntriesAreLeftAlone) {
  put_var("Boot0000", {1, 2, 3});
  put_var("BootOrder", order_bytes({0x0000}));
  EXPECT_EQ(apply().outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(file_bytes("Boot0000"), (std::vector<std::uint8_t>{7, 0, 0, 0, 1, 2, 3}));
  EXPECT_EQ(file_bytes("BootOrder"), (std::vector<std::uint8_t>{7, 0, 0, 0, 1, 0, 0, 0}));
}

TEST_F(EfiBootOrder, ImmutableVariableFileIsMadeWritable) {
  put_var("BootOrder", order_bytes({0x0000}));
  int fd = ::open(var_file("BootOrder").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  int flags = 0;
  bool settable = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  flags |= FS_IMMUTABLE_FL;
  settable = settable && ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  ::close(fd);
  if (!settable) GTEST_SKIP() << "cannot set the immutable flag here (needs CAP_LINUX_IMMUTABLE and ext4/tmpfs)";
  EXPECT_EQ(apply().outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(file_bytes("BootOrder"), (std::vector<std::uint8_t>{7, 0, 0, 0, 0, 0}));
}

TEST_F(EfiBootOrder, DecoderNeverReadsPastTheBytes) {
  const auto full = from_hex(kLoadOptionHex);
  for (std::size_t n = 0; n < full.size(); ++n) {
    LoadOption o = decode_load_option(std::span(full.data(), n));
    EXPECT_FALSE(o.valid) << n;
  }
}

TEST_F(EfiBootOrder, BoardRunsTheMethodOnlyWithTheWrittenDisk) {
  auto profiles = load_profiles(source_profiles_dir());
  const BoardProfile* uefi = nullptr;
  for (const auto& p : profiles)
    if (p.name == "uefi-arm64") uefi = &p;
  ASSERT_NE(uefi, nullptr);
  Board board(*uefi, root.path(), BoardParts{nullptr, std::make_unique<FakePowerControl>()});
  EXPECT_TRUE(board.firmware_after_write());
  EXPECT_FALSE(board.firmware_requires_payload());
  EXPECT_THROW(board.update_firmware(nullptr), Error);
  WrittenDisk disk{"/dev/nvme0n1", esp_table()};
  EXPECT_EQ(board.update_firmware(nullptr, &disk).outcome, FirmwareOutcome::kUpdated);
  EXPECT_EQ(board.update_firmware(nullptr, &disk).outcome, FirmwareOutcome::kAlreadyCurrent);
  std::vector<std::uint8_t> want = {7, 0, 0, 0};
  auto option = from_hex(kLoadOptionHex);
  want.insert(want.end(), option.begin(), option.end());
  EXPECT_EQ(file_bytes("Boot0000"), want);
}

}  // namespace
}  // namespace ironstone::boards

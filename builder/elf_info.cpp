#include "builder/elf_info.h"

#include <cstring>
#include <fstream>

#include "builder/errc.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

std::string elf_machine_name(std::uint16_t machine) {
  switch (machine) {
    case 3: return "x86 (i386)";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 40: return "ARM (32-bit)";
    case 62: return "x86-64";
    case 183: return "AArch64 (arm64)";
    case 243: return "RISC-V";
    default: return "machine " + std::to_string(machine);
  }
}

namespace {

class Reader {
 public:
  Reader(std::vector<std::uint8_t> data, bool big, std::string what) : d_(std::move(data)), big_(big), what_(std::move(what)) {}
  std::uint64_t u(std::uint64_t off, unsigned n) const {
    if (off > d_.size() || n > d_.size() - off) fail("offset " + hex_offset(off) + " is past the end of the file");
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      unsigned shift = big_ ? (n - 1 - i) * 8 : i * 8;
      v |= static_cast<std::uint64_t>(d_[off + i]) << shift;
    }
    return v;
  }
  std::string str(std::uint64_t off) const {
    if (off >= d_.size()) fail("string at " + hex_offset(off) + " is past the end of the file");
    const char* p = reinterpret_cast<const char*>(d_.data() + off);
    std::size_t n = strnlen(p, d_.size() - off);
    if (n == d_.size() - off) fail("unterminated string at " + hex_offset(off));
    return std::string(p, n);
  }
  [[noreturn]] void fail(const std::string& why) const { throw error(Errc::kInput, what_ + ": malformed ELF: " + why); }
  std::size_t size() const { return d_.size(); }

 private:
  std::vector<std::uint8_t> d_;
  bool big_;
  std::string what_;
};

// The whole file at `path` when it starts with the ELF magic (at most 2 GiB, at least a
// 32-bit header); nullopt when it is not an ELF file.
std::optional<std::vector<std::uint8_t>> read_elf_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(Errc::kInput, path.string() + ": cannot open");
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::memcmp(magic, "\x7f" "ELF", 4) != 0) return std::nullopt;
  std::error_code ec;
  const auto fsize = fs::file_size(path, ec);
  if (ec) throw error(Errc::kInput, path.string() + ": " + ec.message());
  if (fsize > (std::uint64_t{1} << 31)) throw error(Errc::kInput, path.string() + ": ELF file larger than 2 GiB");
  std::vector<std::uint8_t> data(static_cast<std::size_t>(fsize));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (static_cast<std::uint64_t>(in.gcount()) != fsize) throw error(Errc::kInput, path.string() + ": short read");
  if (data.size() < 52) throw error(Errc::kInput, path.string() + ": malformed ELF: header truncated");
  return data;
}

struct Load {
  std::uint64_t vaddr, offset, filesz;
};

// What the program headers say: the loaded segments and where the dynamic section is.
struct ProgramHeaders {
  std::vector<Load> loads;
  std::uint64_t dyn_off = 0, dyn_size = 0;
};

// Reads the program headers; sets info.dynamic (PT_DYNAMIC) and info.interpreter (PT_INTERP).
ProgramHeaders read_program_headers(const Reader& r, bool is64, ElfInfo& info) {
  const std::uint64_t phoff = is64 ? r.u(32, 8) : r.u(28, 4);
  const unsigned phentsize = static_cast<unsigned>(r.u(is64 ? 54 : 42, 2));
  const unsigned phnum = static_cast<unsigned>(r.u(is64 ? 56 : 44, 2));
  if (phnum > 0 && phentsize < (is64 ? 56u : 32u)) r.fail("program header entries too small");
  ProgramHeaders out;
  for (unsigned i = 0; i < phnum; ++i) {
    const std::uint64_t ph = phoff + static_cast<std::uint64_t>(i) * phentsize;
    const auto type = r.u(ph, 4);
    std::uint64_t offset, vaddr, filesz;
    if (is64) {
      offset = r.u(ph + 8, 8);
      vaddr = r.u(ph + 16, 8);
      filesz = r.u(ph + 32, 8);
    } else {
      offset = r.u(ph + 4, 4);
      vaddr = r.u(ph + 8, 4);
      filesz = r.u(ph + 16, 4);
    }
    if (type == 1) out.loads.push_back({vaddr, offset, filesz});  // PT_LOAD
    if (type == 2) {                                              // PT_DYNAMIC
      info.dynamic = true;
      out.dyn_off = offset;
      out.dyn_size = filesz;
    }
    if (type == 3) info.interpreter = r.str(offset);  // PT_INTERP
  }
  return out;
}

// The dynamic section's DT_NEEDED and DT_SONAME string offsets and DT_STRTAB (an address).
struct DynamicEntries {
  std::optional<std::uint64_t> strtab_addr;
  std::vector<std::uint64_t> needed;
  std::optional<std::uint64_t> soname;
};

DynamicEntries read_dynamic(const Reader& r, bool is64, const ProgramHeaders& ph) {
  const unsigned entsize = is64 ? 16 : 8, word = is64 ? 8 : 4;
  DynamicEntries out;
  for (std::uint64_t off = ph.dyn_off; off + entsize <= ph.dyn_off + ph.dyn_size; off += entsize) {
    const std::uint64_t tag = r.u(off, word), val = r.u(off + word, word);
    if (tag == 0) break;  // DT_NULL
    if (tag == 1) out.needed.push_back(val);
    if (tag == 5) out.strtab_addr = val;
    if (tag == 14) out.soname = val;
    if (out.needed.size() > 4096) r.fail("too many DT_NEEDED entries");
  }
  return out;
}

// The file offset of the string table at address `strtab_addr` (in the last loaded segment
// that holds it).
std::uint64_t strtab_offset(const Reader& r, const std::vector<Load>& loads, std::uint64_t strtab_addr) {
  std::optional<std::uint64_t> strtab_off;
  for (const auto& l : loads) {
    if (strtab_addr >= l.vaddr && strtab_addr - l.vaddr < l.filesz) strtab_off = l.offset + (strtab_addr - l.vaddr);
  }
  if (!strtab_off) r.fail("DT_STRTAB address is in no loaded segment");
  return *strtab_off;
}

}  // namespace

std::optional<ElfInfo> read_elf_info(const fs::path& path) {
  auto data = read_elf_bytes(path);
  if (!data) return std::nullopt;
  const bool is64 = (*data)[4] == 2;
  const bool big = (*data)[5] == 2;
  if (((*data)[4] != 1 && (*data)[4] != 2) || ((*data)[5] != 1 && (*data)[5] != 2))
    throw error(Errc::kInput, path.string() + ": malformed ELF: bad class or data encoding");
  Reader r(std::move(*data), big, path.string());
  ElfInfo info;
  info.is_64 = is64;
  info.machine = static_cast<std::uint16_t>(r.u(18, 2));
  const ProgramHeaders ph = read_program_headers(r, is64, info);
  if (!info.dynamic) return info;

  const DynamicEntries dyn = read_dynamic(r, is64, ph);
  if (dyn.needed.empty() && !dyn.soname) return info;
  if (!dyn.strtab_addr) r.fail("dynamic section without DT_STRTAB");
  const std::uint64_t strtab = strtab_offset(r, ph.loads, *dyn.strtab_addr);
  for (auto n : dyn.needed) info.needed.push_back(r.str(strtab + n));
  if (dyn.soname) info.soname = r.str(strtab + *dyn.soname);
  return info;
}

}  // namespace ironstone::builder

#include "builder/debian_disk.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include "builder/errc.h"
#include "builder/image_edit.h"
#include "builder/store.h"
#include "util/format.h"
#include "util/process.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr const char* kEspMount = "/boot/efi";
constexpr const char* kEspHookName = "zz-ironstone-esp";

void log_to(const DebianBuild& b, const std::string& line) {
  if (b.log) b.log(line);
}

// Runs a tool; a failure is a kTool error that says which stage failed.
void run_tool(const std::vector<std::string>& argv, const std::string& stage, const util::ProcessOptions& o = {}) {
  const util::ProcessResult r = util::run_process(argv, o);
  if (r.exit_code != 0) throw error(Errc::kTool, "debian base: " + stage + ": " + util::failure_message(argv, r, 1500));
}

void write_text(const fs::path& path, const std::string& text, unsigned mode) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  write_file_atomic(path, text, mode);
}

// CACHE/.build-<id>/: removed when the build ends, unless a mount is still below it.
class WorkDir {
 public:
  WorkDir(const fs::path& cache, const std::string& id) : path_(cache / (".build-" + id)) {
    std::error_code ec;
    if (fs::exists(path_, ec)) remove_or_throw();
    fs::create_directories(path_, ec);
    if (ec) throw error(Errc::kStore, path_.string() + ": " + ec.message());
  }
  ~WorkDir() {
    try {
      remove_or_throw();
    } catch (const std::exception&) {  // left for the user; the build's own error is what matters
    }
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  void remove_or_throw() {
    if (mounts_below(path_))
      throw error(Errc::kStore, path_.string() + ": a filesystem is still mounted below it (an interrupted mmdebstrap?): "
                                                 "unmount it (findmnt -R " + path_.string() + ") and remove the directory");
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path path_;
};

// ---------------------------------------------------------------- stages

void bootstrap(const DebianBuild& b, const fs::path& root) {
  const fs::path debs = b.cache / "debs";  // shared by every base built with this --cache
  std::error_code ec;
  fs::create_directories(debs, ec);
  if (ec) throw error(Errc::kStore, "--cache " + debs.string() + ": " + ec.message());
  const auto argv = mmdebstrap_argv(b.recipe, b.sources, root, debs);
  log_to(b, "debian base: " + util::command_line(argv));
  util::ProcessOptions o;
  o.on_line = [&](std::string_view line) { log_to(b, "mmdebstrap: " + std::string(line)); };
  o.max_output = 64 << 10;
  // On a terminal mmdebstrap shows its steps with progress bars itself (download, extract,
  // install: the ~15 minutes of this build); its messages then go there, not into the log.
  o.inherit_stderr = b.terminal_progress;
  const std::string stage = "mmdebstrap (bootstrapping " + b.recipe.debian->suite + " arm64)";
  run_tool(argv, b.terminal_progress ? stage + ", its messages above" : stage, o);
}

void configure_root(const DebianBuild& b, const fs::path& root) {
  write_text(root / "etc/fstab", debian_fstab_text(b.ids), 0644);
  write_text(root / "etc/hostname", "localhost\n", 0644);
  write_text(root / "etc/systemd/network/80-ironstone-dhcp.network", debian_network_text(), 0644);
  write_text(root / "etc/kernel/postinst.d" / kEspHookName, debian_esp_hook_text(), 0755);
  write_text(root / "etc/initramfs/post-update.d" / kEspHookName, debian_esp_hook_text(), 0755);
  std::error_code ec;
  fs::create_directories(root / "boot/efi", ec);
  run_tool({"systemctl", "--root=" + root.string(), "--quiet", "enable", "systemd-networkd.service"},
           "enabling systemd-networkd");
}

struct KernelFiles {
  fs::path vmlinuz, initrd;
};

// The newest /boot/vmlinuz-VERSION and its initrd.img-VERSION.
KernelFiles find_kernel(const fs::path& root) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "boot", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("vmlinuz-", 0) == 0) versions.push_back(name.substr(8));
  }
  if (versions.empty())
    throw error(Errc::kInput, "debian base: " + (root / "boot").string() + ": no vmlinuz-*: is linux-image-arm64 installed?");
  std::sort(versions.begin(), versions.end());
  KernelFiles k{root / "boot" / ("vmlinuz-" + versions.back()), root / "boot" / ("initrd.img-" + versions.back())};
  if (!fs::is_regular_file(k.initrd, ec))
    throw error(Errc::kInput, "debian base: " + k.vmlinuz.string() + " has no " + k.initrd.filename().string() +
                                  " beside it (did initramfs-tools run?)");
  return k;
}

bool is_gzip(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<unsigned char, 2> magic{};
  in.read(reinterpret_cast<char*>(magic.data()), 2);
  return in && magic[0] == 0x1f && magic[1] == 0x8b;
}

fs::path make_esp(const DebianBuild& b, const fs::path& root, const fs::path& work, std::uint64_t size) {
  const fs::path esp = work / "esp.img";
  const std::string label = b.layout.boot_label.empty() ? "ESP" : b.layout.boot_label;
  run_tool({"mkfs.vfat", "-F", "32", "-n", label, "-i", b.ids.esp_serial, "-C", esp.string(), std::to_string(size / 1024)},
           "the EFI system partition");
  const KernelFiles k = find_kernel(root);
  fs::path kernel = k.vmlinuz;
  if (is_gzip(k.vmlinuz)) {  // systemd-boot starts the kernel's EFI stub: it must be uncompressed
    kernel = work / "vmlinuz";
    run_tool({"sh", "-c", "gzip -dc \"$1\" > \"$2\"", "sh", k.vmlinuz.string(), kernel.string()}, "decompressing the kernel");
  }
  write_text(work / "loader.conf", "default ironstone.conf\ntimeout 0\neditor no\n", 0644);
  write_text(work / "ironstone.conf", debian_loader_entry_text(b.ids), 0644);
  util::ProcessOptions o;
  o.env = {{"MTOOLS_SKIP_CHECK", "1"}};
  const std::string img = esp.string();
  run_tool({"mmd", "-i", img, "::/EFI", "::/EFI/BOOT", "::/loader", "::/loader/entries"}, "the EFI system partition", o);
  const fs::path loader = root / "usr/lib/systemd/boot/efi/systemd-bootaa64.efi";
  const std::vector<std::pair<fs::path, std::string>> files = {
      {loader, "::/EFI/BOOT/BOOTAA64.EFI"}, {kernel, "::/vmlinuz"}, {k.initrd, "::/initrd.img"},
      {work / "loader.conf", "::/loader/loader.conf"}, {work / "ironstone.conf", "::/loader/entries/ironstone.conf"}};
  for (const auto& [from, to] : files) {
    if (!fs::exists(from)) throw error(Errc::kInput, "debian base: " + from.string() + ": missing (is systemd-boot-efi installed?)");
    run_tool({"mcopy", "-i", img, "-o", from.string(), to}, "copying " + from.filename().string() + " to the EFI system partition", o);
  }
  log_to(b, "debian base: EFI system partition: systemd-boot, " + k.vmlinuz.filename().string() + ", " +
                k.initrd.filename().string());
  return esp;
}

fs::path make_rootfs(const DebianBuild& b, const fs::path& root, const fs::path& work, std::uint64_t size) {
  const fs::path img = work / "root.ext4";
  const std::vector<std::string> argv = {"mke2fs", "-q", "-F", "-t", "ext4", "-L", b.layout.root_label, "-U", b.ids.root_uuid,
                                         "-E", "root_owner=0:0,hash_seed=" + b.ids.root_uuid, "-d", root.string(),
                                         img.string(), std::to_string(size / 1024) + "k"};
  const util::ProcessResult r = util::run_process(argv);
  if (r.exit_code != 0) {
    const auto du = util::run_process({"du", "-sb", root.string()});
    throw error(Errc::kInput, "debian base: the root filesystem (" + util::human_size(size) + ", disk.size less the boot partition)" +
                                  " cannot hold the Debian root (" + (du.exit_code == 0 ? du.out.substr(0, du.out.find('\t')) + " bytes" : "?") +
                                  "): make disk.size larger; " + util::failure_message(argv, r));
  }
  return img;
}

// Copies `from` into `fd` at `offset`, leaving holes where `from` has zero blocks.
void copy_sparse(const fs::path& from, int fd, std::uint64_t offset, const std::string& out_name) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw error(Errc::kStore, from.string() + ": cannot open");
  std::vector<char> buf(kMiB);
  std::uint64_t at = 0;
  for (;;) {
    const ssize_t n = ::pread(in, buf.data(), buf.size(), static_cast<off_t>(at));
    if (n <= 0) break;
    const bool zero = std::all_of(buf.begin(), buf.begin() + n, [](char c) { return c == 0; });
    if (!zero && ::pwrite(fd, buf.data(), static_cast<std::size_t>(n), static_cast<off_t>(offset + at)) != n) {
      ::close(in);
      throw error(Errc::kStore, out_name + ": write @ " + std::to_string(offset + at) + " failed (disk full?)");
    }
    at += static_cast<std::uint64_t>(n);
  }
  ::close(in);
}

void assemble(const DebianBuild& b, const fs::path& work, const fs::path& esp, const fs::path& rootfs, const fs::path& out) {
  const GptGeometry g = gpt_geometry(b.layout);
  ImageOutput img(out);
  if (::ftruncate(img.fd(), static_cast<off_t>(b.layout.size)) != 0)
    throw error(Errc::kStore, img.path().string() + ": cannot size to " + util::human_size(b.layout.size));
  write_text(work / "table.sfdisk", debian_sfdisk_script(b.layout, b.ids), 0644);
  util::ProcessOptions o;
  o.stdin_file = (work / "table.sfdisk").string();
  run_tool({"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", img.path().string()}, "the partition table", o);
  copy_sparse(esp, img.fd(), g.esp_offset, img.path().string());
  copy_sparse(rootfs, img.fd(), g.root_offset, img.path().string());
  img.commit();
}

}  // namespace

GptGeometry gpt_geometry(const DiskLayout& layout) {
  GptGeometry g{};
  g.esp_offset = kMiB;
  g.esp_size = (layout.boot_size + kMiB - 1) / kMiB * kMiB;
  g.root_offset = g.esp_offset + g.esp_size;
  g.root_size = (layout.size / kMiB) * kMiB - g.root_offset - kMiB;
  return g;
}

bool mounts_below(const fs::path& dir) {
  const std::string prefix = fs::weakly_canonical(dir).string() + "/";
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (f >> id >> parent >> devno >> root >> mount_point && (mount_point + "/").rfind(prefix, 0) == 0) return true;
  }
  return false;
}

void build_debian_image(const DebianBuild& b, const fs::path& out) {
  WorkDir work(b.cache, b.ids.disk_guid.substr(0, 8));
  const fs::path root = work.path() / "root";
  log_to(b, "debian base: bootstrapping " + b.recipe.debian->suite + " arm64 into " + root.string() +
                " (under qemu-user this takes ~15 min; the result is cached)");
  bootstrap(b, root);
  finish_debian_image(b, root, work.path(), out);
}

void finish_debian_image(const DebianBuild& b, const fs::path& root, const fs::path& work, const fs::path& out) {
  const GptGeometry g = gpt_geometry(b.layout);
  configure_root(b, root);
  const fs::path esp = make_esp(b, root, work, g.esp_size);
  log_to(b, "debian base: root filesystem (" + util::human_size(g.root_size) + ")");
  const fs::path rootfs = make_rootfs(b, root, work, g.root_size);
  assemble(b, work, esp, rootfs, out);
  log_to(b, "debian base: wrote " + out.string());
}

// ---------------------------------------------------------------- texts

std::string debian_fstab_text(const DiskIds& ids) {
  return "# Written by `ironstone-build gold` (a debian: source). Partitions by PARTUUID: another disk with\n"
         "# the same labels (an installer card) is never mounted in their place.\n"
         "PARTUUID=" + ids.root_guid + "  /          ext4  defaults,errors=remount-ro  0 1\n" +
         "PARTUUID=" + ids.esp_guid + "  " + kEspMount + "  vfat  umask=0077,shortname=winnt  0 2\n";
}

std::string debian_loader_entry_text(const DiskIds& ids) {
  return "title   Debian (Ironstone)\nlinux   /vmlinuz\ninitrd  /initrd.img\n"
         "options root=PARTUUID=" + ids.root_guid + " rw rootwait console=tty0 console=ttyAMA0,115200\n";
}

std::string debian_network_text() {
  return "# Written by `ironstone-build gold`: DHCP on every Ethernet port (cloud-init's network config,\n"
         "# when the seed has one, comes first).\n[Match]\nType=ether\n\n[Network]\nDHCP=yes\n";
}

std::string debian_esp_hook_text() {
  return std::string("#!/bin/sh\n"
                     "# Written by `ironstone-build gold`: systemd-boot starts the kernel and initrd on the EFI system\n"
                     "# partition; copy the newest ones there after a kernel or initramfs update.\n"
                     "set -e\n"
                     "esp=") + kEspMount + "\n"
         "mountpoint -q \"$esp\" || exit 0\n"
         "kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)\n"
         "[ -n \"$kernel\" ] || exit 0\n"
         "initrd=/boot/initrd.img-${kernel#/boot/vmlinuz-}\n"
         "[ -f \"$initrd\" ] || exit 0\n"
         "if gzip -t \"$kernel\" 2>/dev/null; then gzip -dc \"$kernel\" > \"$esp/vmlinuz.new\"; else cp \"$kernel\" \"$esp/vmlinuz.new\"; fi\n"
         "cp \"$initrd\" \"$esp/initrd.img.new\"\n"
         "mv \"$esp/vmlinuz.new\" \"$esp/vmlinuz\"\n"
         "mv \"$esp/initrd.img.new\" \"$esp/initrd.img\"\n";
}

std::string debian_sfdisk_script(const DiskLayout& layout, const DiskIds& ids) {
  const GptGeometry g = gpt_geometry(layout);
  auto sectors = [](std::uint64_t bytes) { return std::to_string(bytes / 512); };
  const std::string esp_label = layout.boot_label.empty() ? "ESP" : layout.boot_label;
  return "label: gpt\nlabel-id: " + ids.disk_guid + "\nunit: sectors\nfirst-lba: 2048\n" +
         "start=" + sectors(g.esp_offset) + ", size=" + sectors(g.esp_size) +
         ", type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=" + ids.esp_guid + ", name=\"" + esp_label + "\"\n" +
         "start=" + sectors(g.root_offset) + ", size=" + sectors(g.root_size) +
         ", type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE, uuid=" + ids.root_guid + ", name=\"" + layout.root_label + "\"\n";
}

}  // namespace ironstone::builder

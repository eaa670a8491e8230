#!/usr/bin/env bash
# The end-to-end run: zero touch, proven on an emulated arm64 UEFI machine (./setup.sh e2e).
#
#   tools/e2e.sh [--build DIR] [--keep DIR] [--cache DIR] [--timeout-min N] [--preflight]
#
# --preflight only checks the host tools and, without a cached gold image, the qemu-aarch64 binfmt
# handler, then exits (./setup.sh e2e runs it before building, so a missing piece shows in seconds).
#
# 1. builds (or takes from --cache) the gold image from recipes/e2e.yaml (Debian bookworm arm64 from
#    mmdebstrap, cached by its inputs), and turns the same image into the uefi-arm64 installer card
#    with the cross-built arm64 flasher (the card gets partition ids of its own);
# 2. publishes the gold image as a signed release and starts a seeder on loopback with an inventory
#    naming the VM's MAC (host name, labels, k3s server URL and token, an SSH key);
# 3. boots qemu-system-aarch64 -M virt (TCG) with AAVMF and its own NVRAM, the installer as a
#    virtio disk ("SD card"), an empty NVMe drive and user-mode networking restricted to one
#    forwarded port: the guest reaches the seeder at http://10.0.2.100:8080 and nothing else;
# 4. waits for the flasher to power the VM off, boots it again with the installer still attached,
#    checks that it booted the NVMe (no second flash), that cloud-init applied the identity and the
#    first-boot unit ran, and that the seeder's fleet shows the node `booted` with its host name;
# 5. boots it a third time and orders it re-flashed from the seeder (POST /v1/fleet/reflash with the
#    operator token): the node's orders timer takes the signed order, reports `reflashing`, wipes its
#    disk's partition table and reboots; on the fourth power-on the installer card flashes again and
#    the fleet history shows the order carried out;
# 6. prints a timeline; --keep DIR leaves nvme.img, vars.fd, serial-{1..4}.log, fleet.json,
#    inventory.json (and the seeder log) there.
#
# Needs: root (the Debian image build, unless cached); qemu-system-arm, qemu-efi-aarch64, socat, e2fsprogs, fdisk,
# mmdebstrap + qemu-user-static with the qemu-aarch64 binfmt handler enabled (for the image
# builds, unless cached), the cross toolchain (tools/cross-arm64.sh installs it). k3s itself is not
# a Debian package and is not run: the run checks everything up to the unit that would start it.
#
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
repo=$PWD
build=build keep= preflight= cache=${IRONSTONE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ironstone/e2e} timeout_min=40
usage() { sed -n '4,4p' "$0" | sed 's/^#  *//'; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=${2:?}; shift 2 ;;
    --keep) keep=${2:?--keep needs a directory}; shift 2 ;;
    --cache) cache=${2:?}; shift 2 ;;
    --timeout-min) timeout_min=${2:?}; shift 2 ;;
    --preflight) preflight=1; shift ;;
    -h|--help) usage ;;
    *) echo "e2e: unknown argument: $1" >&2; usage ;;
  esac
done

MAC=52:54:00:12:34:56
HOSTNAME_WANT=e2e-node1
SEEDER_GUEST_URL=http://10.0.2.100:8080
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
t0=$(date +%s)
timeline=()
die() { echo "e2e: $*" >&2; exit 1; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
mark() { timeline+=("$(printf '%6ds  %s' $(( $(date +%s) - t0 )) "$*")"); echo "e2e: [$(( $(date +%s) - t0 ))s] $*"; }

# --- stage: what the run needs, each missing piece with how to get it ---------------------------
check_tools() {
  local t
  for t in qemu-system-aarch64:qemu-system-arm socat:socat debugfs:e2fsprogs sfdisk:fdisk curl:curl \
           ssh-keygen:openssh-client journalctl:systemd; do
    command -v "${t%%:*}" >/dev/null || die "${t%%:*} not found: apt-get install ${t#*:} (or run ./setup.sh e2e)"
  done
  [ -r "$AAVMF_CODE" ] && [ -r "$AAVMF_VARS" ] || die "$AAVMF_CODE missing: apt-get install qemu-efi-aarch64"
  check_binfmt
}

# Building the gold image runs arm64 programs: without a cached image, the handler must be on.
# Checked, never changed here (it is the host's, shared with everything else on it).
check_binfmt() {
  [ -s "$cache/gold.img" ] && return 0
  local h=/proc/sys/fs/binfmt_misc/qemu-aarch64
  [ -r "$h" ] && [ "$(head -1 "$h")" = enabled ] && return 0
  die "no cached gold image in $cache, and building one needs the qemu-aarch64 binfmt handler ($h is not enabled): apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64"
}

check_binaries() {
  local b
  for b in builder/ironstone-build seeder/ironstone-seeder; do
    [ -x "$build/$b" ] || die "$build/$b missing: run ./setup.sh (or ./setup.sh e2e)"
  done
}

# --- stage: the arm64 flasher (cross build) ------------------------------------------------------
build_flasher() {
  if [ ! -x build-arm64/flasher/ironstone-flasher ] || [ -n "$(find flasher swarm manifest boards util disk api \
        -newer build-arm64/flasher/ironstone-flasher -name '*.cpp' -o -newer build-arm64/flasher/ironstone-flasher -name '*.h' 2>/dev/null | head -1)" ]; then
    tools/cross-arm64.sh --target ironstone-flasher
  fi
  mark "arm64 flasher ready"
}

# --- stage: the two images, cached by the builder -------------------------------------------------
build_images() {
  mkdir -p "$cache"
  "$build/builder/ironstone-build" gold --recipe recipes/e2e.yaml --out "$cache/gold.img" \
    --cache "$cache/build" --sbom "$cache/gold.spdx.json"
  mark "gold image ready ($(du -h --apparent-size "$cache/gold.img" | cut -f1))"
}

# --- stage: keys, release, installer, inventory, seeder ------------------------------------------
publish_release() {
  "$build/builder/ironstone-build" keygen --secret-key "$work/release.key" --public-key "$work/release.pub"
  "$build/builder/ironstone-build" publish --store "$work/store" --board uefi-arm64 --version e2e-1 \
    --secret-key "$work/release.key" --sbom "$cache/gold.spdx.json" --quiet "$cache/gold.img"
  mark "release uefi-arm64/e2e-1 published"
  "$build/builder/ironstone-build" installer --base "$cache/gold.img" --board uefi-arm64 \
    --seeder "$SEEDER_GUEST_URL" --public-key "$work/release.pub" --out "$work/installer.img" \
    --flasher build-arm64/flasher/ironstone-flasher --card-name e2e-card --enrolment-keys "$work/enrolment-keys" --quiet
  mark "installer image made"
}

write_inventory() {
  ssh-keygen -q -t ed25519 -N '' -C e2e@ironstone -f "$work/e2e_ssh_key"
  printf 'K10e2e-not-a-real-token::server:0123456789abcdef\n' > "$work/k3s-token"
  cat > "$work/inventory.json" <<EOF
{"format_version": 1,
 "cluster": {"k3s": {"server": "https://10.0.2.100:6443", "token_file": "k3s-token"},
             "ssh_authorized_keys": ["$(cat "$work/e2e_ssh_key.pub")"]},
 "nodes": {"$MAC": {"hostname": "$HOSTNAME_WANT", "role": "agent", "labels": {"rack": "e2e", "ironstone/test": "true"}}}}
EOF
}

start_seeder() {
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/operator-token"
  "$build/seeder/ironstone-seeder" --store "$work/store" --listen 127.0.0.1:0 --bt-listen 127.0.0.1:0 \
    --public-url "$SEEDER_GUEST_URL/" --inventory "$work/inventory.json" --fleet-db "$work/fleet.sqlite" \
    --enrolment-keys "$work/enrolment-keys" --operator-token-file "$work/operator-token" \
    > "$work/seeder.log" 2>&1 &
  seeder_pid=$!
  local i
  for i in $(seq 100); do  # the seeder logs the ports it bound
    http_port=$(sed -n 's/.*HTTP port \([0-9]*\),.*/\1/p' "$work/seeder.log")
    [ -n "$http_port" ] && break
    kill -0 "$seeder_pid" 2>/dev/null || { cat "$work/seeder.log"; die "the seeder exited"; }
    sleep 0.1
  done
  [ -n "$http_port" ] || die "the seeder did not start (log: $work/seeder.log)"
  mark "seeder on 127.0.0.1:$http_port (the guest sees $SEEDER_GUEST_URL)"
}

# --- stage: the emulated node ---------------------------------------------------------------------
qemu_boot() {  # qemu_boot N: boots with NVMe + installer attached; returns when QEMU exits
  local n=$1
  qemu-system-aarch64 -M virt -cpu max -smp 2 -m 2048 -display none -no-reboot \
    -drive if=pflash,format=raw,readonly=on,file="$AAVMF_CODE" \
    -drive if=pflash,format=raw,file="$work/vars.fd" \
    -drive id=nvme0,if=none,format=raw,file="$work/nvme.img" -device nvme,serial=ironstone-e2e,drive=nvme0 \
    -drive id=card,if=none,format=raw,file="$work/installer.img" -device virtio-blk-pci,drive=card \
    -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:socat - TCP:127.0.0.1:$http_port" \
    -device virtio-net-pci,netdev=n0,romfile=,mac=$MAC \
    -serial file:"$work/serial-$n.log" -monitor none -qmp unix:"$work/qmp.sock",server=on,wait=off \
    > "$work/qemu-$n.log" 2>&1 &
  qemu_pid=$!
}

node_field() {  # node_field EXPR: a jq-less read of the fleet view for our MAC
  curl -fsS "http://127.0.0.1:$http_port/v1/fleet" > "$work/fleet.json" 2>/dev/null || return 1
  python3 - "$work/fleet.json" "$MAC" "$1" <<'EOF'
import json, sys
fleet = json.load(open(sys.argv[1]))
nodes = fleet.get("nodes", fleet) if isinstance(fleet, dict) else fleet
for n in (nodes if isinstance(nodes, list) else nodes.values()):
    if str(n.get("mac", "")).lower() == sys.argv[2] or str(n.get("node_id", "")).lower() == sys.argv[2]:
        print(n.get(sys.argv[3], "")); break
EOF
}

wait_for() {  # wait_for WHAT DEADLINE_S TEST...: polls TEST every 2 s until it holds, QEMU exits or the deadline
  local what=$1 deadline=$(( $(date +%s) + $2 )); shift 2
  while [ "$(date +%s)" -lt "$deadline" ]; do
    "$@" && return 0
    kill -0 "$qemu_pid" 2>/dev/null || return 2
    sleep 2
  done
  echo "e2e: timed out waiting for $what" >&2; return 1
}

qemu_exited() { ! kill -0 "$qemu_pid" 2>/dev/null; }
node_is() { [ "$(node_field state)" = "$1" ]; }

first_boot() {
  truncate -s 8G "$work/nvme.img"
  cp "$AAVMF_VARS" "$work/vars.fd"
  qemu_boot 1
  mark "power on 1 (installer + empty NVMe)"
  wait_for "the flasher to start" 600 node_is working || die "the node never reported (serial: $work/serial-1.log)"
  mark "flasher working"
  flashed_and_off 1 "flash"
}

flashed_and_off() {  # flashed_and_off N WHAT: waits for `done`, then for the flasher's power-off
  local n=$1 what=$2
  wait_for "the $what" $(( timeout_min * 60 )) node_is done || true
  [ "$(node_field state)" = done ] || die "the $what did not finish: state '$(node_field state)' (serial: $work/serial-$n.log)"
  mark "$what done"
  wait_for "power off" 300 qemu_exited || true
  qemu_exited || die "the flasher did not power the VM off (serial: $work/serial-$n.log)"
  wait "$qemu_pid" || true
  mark "powered off"
}

second_boot() {
  qemu_boot 2
  mark "power on 2 (installer still attached)"
  wait_for "the booted report" $(( timeout_min * 60 )) node_is booted || true
  [ "$(node_field state)" = booted ] || [ "$(node_field state)" = joined ] ||
    die "no first-boot report: state '$(node_field state)' (serial: $work/serial-2.log)"
  mark "seeder: node booted as '$(node_field hostname)'"
  # A clean shutdown (ACPI power button), so the NVMe's filesystems can be read afterwards.
  printf '{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n' | socat - UNIX-CONNECT:"$work/qmp.sock" >/dev/null
  wait_for "shutdown" 300 qemu_exited || { kill "$qemu_pid"; echo "e2e: the guest ignored the power button" >&2; }
  wait "$qemu_pid" || true
  mark "powered off"
}

# --- stage: a re-flash order from the seeder (docs/seeder.md "Re-flashing nodes") ---------------
third_boot() {  # booted from its NVMe, the node takes the order: wipes its disk, reboots into the card
  qemu_boot 3
  mark "power on 3 (installer still attached)"
  curl -fsS -X POST -H "Authorization: Bearer $(cat "$work/operator-token")" --data "{\"nodes\":[\"$MAC\"]}" \
    "http://127.0.0.1:$http_port/v1/fleet/reflash" > "$work/order.json" || die "POST /v1/fleet/reflash was refused"
  mark "re-flash ordered"
  wait_for "the node to take the order" 900 node_is reflashing || true
  [ "$(node_field state)" = reflashing ] ||
    die "the node did not take the order: state '$(node_field state)' (serial: $work/serial-3.log)"
  mark "node reflashing"
  wait_for "the reboot" 300 qemu_exited || true  # -no-reboot: the guest's reboot ends QEMU
  qemu_exited || die "the node did not reboot after taking the order (serial: $work/serial-3.log)"
  wait "$qemu_pid" || true
  mark "rebooted"
}

fourth_boot() {  # the firmware finds no bootable NVMe, boots the card, which flashes and carries the order out
  qemu_boot 4
  mark "power on 4 (the NVMe's partition table wiped)"
  flashed_and_off 4 "second flash"
}

check_order() {
  local fails=0 history
  check() { if eval "$2"; then echo "  ok    $1"; else echo "  FAIL  $1"; fails=$((fails + 1)); fi; }
  history=$(curl -fsS "http://127.0.0.1:$http_port/v1/nodes/$MAC/history")
  check "the seeder ordered this node" 'grep -qi "$MAC" "$work/order.json"'
  check "the fleet history shows the order carried out" 'grep -q "carried out" <<<"$history"'
  check "the fleet history shows two flashes" '[ "$(grep -o "\"kind\":\"flash\"" <<<"$history" | wc -l)" -ge 2 ]'
  check "the re-flashed NVMe has a partition table again" 'sfdisk -d "$work/nvme.img" >/dev/null 2>&1'
  return $fails
}

# --- stage: what the node holds after its first boot ----------------------------------------------
root_fs() {  # the NVMe's root filesystem as a debugfs device spec: FILE?offset=BYTES
  local start
  start=$(sfdisk -J "$work/nvme.img" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
parts = sorted(t["partitions"], key=lambda p: p["size"])
print(parts[-1]["start"] * t.get("sectorsize", 512))')
  echo "$work/nvme.img?offset=$start"
}

check_node() {
  local fs fails=0 out
  fs=$(root_fs)
  check() { if eval "$2"; then echo "  ok    $1"; else echo "  FAIL  $1"; fails=$((fails + 1)); fi; }
  out=$(debugfs -R 'cat /etc/hostname' "$fs" 2>/dev/null)
  check "host name is $HOSTNAME_WANT" '[ "$out" = "$HOSTNAME_WANT" ]'
  local cfg mode keys
  cfg=$(debugfs -R 'cat /etc/rancher/k3s/config.yaml' "$fs" 2>/dev/null)
  mode=$(debugfs -R 'stat /etc/rancher/k3s/config.yaml' "$fs" 2>/dev/null | sed -n 's/.*Mode: *\([0-7]*\).*/\1/p')
  check "k3s config.yaml has the server" 'grep -q "10.0.2.100:6443" <<<"$cfg"'
  check "k3s config.yaml has the token" 'grep -q "K10e2e-not-a-real-token" <<<"$cfg"'
  check "k3s config.yaml has the node name" 'grep -q "node-name: *\"\?$HOSTNAME_WANT" <<<"$cfg"'
  check "k3s config.yaml has the labels" 'grep -q "rack=e2e" <<<"$cfg"'
  check "k3s config.yaml is mode 0600" '[ "${mode: -4}" = 0600 ]'
  keys=$(for d in /root /home/*; do debugfs -R "cat $d/.ssh/authorized_keys" "$fs" 2>/dev/null; done)
  check "the SSH key is authorized" 'grep -qF "$(cut -d" " -f2 "$work/e2e_ssh_key.pub")" <<<"$keys"'
  mkdir -p "$work/journal"
  debugfs -R "rdump /var/log/journal $work/journal" "$fs" >/dev/null 2>&1 || true
  out=$(journalctl -D "$work/journal/journal" -o cat -u ironstone-firstboot.service 2>/dev/null || true)
  check "ironstone-firstboot.service ran" '[ -n "$out" ]'
  # The e2e image has no k3s binary (Debian does not package it), so the unit must be enabled but
  # skipped by its ConditionFileIsExecutable: no done-marker, no k3s unit enabled, no "joined".
  # (Read from the disk, not the journal: a run of this check found no journal line for the skip.)
  out=$(debugfs -R 'stat /etc/systemd/system/cloud-init.target.wants/ironstone-k3s-init.service' "$fs" 2>&1)
  check "ironstone-k3s-init.service is enabled (wanted by cloud-init.target)" 'grep -q "Type: symlink" <<<"$out"'
  out=$(debugfs -R 'stat /var/lib/ironstone/k3s-init.done' "$fs" 2>&1)
  check "ironstone-k3s-init.service did not run (no k3s binary in the e2e image)" 'grep -q "File not found" <<<"$out"'
  check "the node did not report joined without k3s" '[ "$(node_field state)" = booted ]'
  check "the second boot did not flash again" '! grep -q "ironstone-flasher" "$work/serial-2.log"'
  check "the fleet shows one flash in the node's history" \
    '[ "$(curl -fsS "http://127.0.0.1:$http_port/v1/nodes/$MAC/history" | grep -o "\"flash\"" | wc -l)" -ge 1 ]'
  return $fails
}

# --- the run --------------------------------------------------------------------------------------
if [ -n "$preflight" ]; then
  check_tools
  echo "e2e: preflight OK (host tools$([ -s "$cache/gold.img" ] && echo ", cached gold image" || echo ", qemu-aarch64 binfmt handler"))"
  exit 0
fi
seeder_pid= qemu_pid= http_port=
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ironstone-e2e.XXXXXX")
cleanup() {
  # No errexit here: a qemu that already exited makes kill fail, and under set -e that ended the
  # trap before the seeder was stopped and the work directory removed (seen after a passing run).
  set +e
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null; fi
  if [ -n "$seeder_pid" ] && kill "$seeder_pid" 2>/dev/null; then wait "$seeder_pid" 2>/dev/null; fi
  if [ -n "$keep" ]; then
    mkdir -p "$keep"
    cp --sparse=always "$work"/{nvme.img,vars.fd,serial-1.log,serial-2.log,serial-3.log,serial-4.log,fleet.json,inventory.json,seeder.log} "$keep"/ 2>/dev/null || true
    echo "e2e: artifacts in $keep"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

say "1/6 tools, the arm64 flasher and the images"
check_tools
check_binaries
build_flasher
build_images
say "2/6 the release, the installer card, the seeder"
publish_release
write_inventory
start_seeder
say "3/6 first power-on: the installer flashes the NVMe"
first_boot
say "4/6 second power-on, installer still attached"
second_boot
say "5/6 what the node holds"
result=0
check_node || result=$?
say "6/6 a re-flash order from the seeder: third and fourth power-on"
third_boot
fourth_boot
check_order || result=$(( result + $? ))
curl -fsS "http://127.0.0.1:$http_port/v1/fleet" > "$work/fleet.json" || true
printf '\ntimeline:\n'; printf '  %s\n' "${timeline[@]}"
[ "$result" = 0 ] && echo "e2e: OK" || { echo "e2e: FAILED ($result checks)"; exit 1; }

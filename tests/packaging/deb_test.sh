#!/bin/bash
# The .deb packages (packaging/CMakeLists.txt, packaging/README.md): builds them with cpack from
# a built tree into a temporary directory, checks their metadata and contents, then installs
# ironstone-boards + ironstone-seeder into a throw-away root with
#   dpkg --root=ROOT --force-script-chrootless
# (dpkg runs the maintainer scripts with DPKG_ROOT=ROOT; they create the user with
# systemd-sysusers --root and start nothing) and checks the user, the store, the unit and its
# enablement there. The host's users and services are never touched: the test checks that its
# /etc/passwd and /etc/group are unchanged. Removes and purges the package again at the end.
#
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR. Prints "SKIPPED: why" (and exits 0) where a tool is
# missing; exit status 1 with the failed check otherwise.
set -euo pipefail

BUILD=${1:?usage: deb_test.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: deb_test.sh BUILD_DIR SOURCE_DIR}
BUILD=$(cd "$BUILD" && pwd)

skip() { echo "SKIPPED: $*"; exit 0; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

for tool in dpkg dpkg-deb cpack awk; do
  command -v "$tool" >/dev/null || skip "$tool not installed (apt-get install dpkg cmake gawk)"
done
command -v systemd-sysusers >/dev/null || skip "systemd-sysusers not installed: the seeder's postinst needs it under DPKG_ROOT"
[ "$(id -u)" = 0 ] || skip "not root: dpkg --root needs to chown the installed files"
[ -f "$BUILD/CPackConfig.cmake" ] || fail "$BUILD/CPackConfig.cmake missing: packaging/ not configured"
for b in seeder/ironstone-seeder builder/ironstone-build flasher/ironstone-flasher; do
  [ -x "$BUILD/$b" ] || fail "$BUILD/$b not built (cmake --build $BUILD)"
done

TMP=$(mktemp -d /tmp/ironstone-deb-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
HOST_SUMS=$(sha256sum /etc/passwd /etc/group)

# ------------------------------------------------------------------ build the packages
# -B: staging and output in TMP, so the build tree gets nothing.
if ! (cd "$TMP" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP/out") >"$TMP/cpack.log" 2>&1; then
  cat "$TMP/cpack.log" >&2
  fail "cpack -G DEB failed"
fi
VERSION=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")
RELEASE=$(sed -n 's/^set(CPACK_DEBIAN_PACKAGE_RELEASE "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")
ARCH=$(dpkg --print-architecture)
V="$VERSION-$RELEASE"
[ -n "$VERSION" ] && [ -n "$RELEASE" ] || fail "no version/release in CPackConfig.cmake"

deb() { echo "$TMP/out/$1_${V}_$2.deb"; }
PACKAGES="ironstone-seeder:$ARCH ironstone-build:$ARCH ironstone-flasher:$ARCH ironstone-boards:all"
if grep -q '"bench"' "$BUILD/CPackConfig.cmake"; then PACKAGES="$PACKAGES ironstone-bench:$ARCH"; fi
for pa in $PACKAGES; do
  f=$(deb "${pa%%:*}" "${pa##*:}")
  [ -f "$f" ] || { ls "$TMP/out" >&2; fail "expected package $(basename "$f")"; }
done
ok "cpack made: $(cd "$TMP/out" && ls ./*.deb | xargs -n1 basename | tr '\n' ' ')"

# ------------------------------------------------------------------ metadata
field() { dpkg-deb -f "$1" "$2"; }
for pa in $PACKAGES; do
  name=${pa%%:*} arch=${pa##*:} f=$(deb "${pa%%:*}" "${pa##*:}")
  [ "$(field "$f" Package)" = "$name" ] || fail "$name: Package field"
  [ "$(field "$f" Version)" = "$V" ] || fail "$name: Version is '$(field "$f" Version)', expected $V"
  [ "$(field "$f" Architecture)" = "$arch" ] || fail "$name: Architecture is '$(field "$f" Architecture)', expected $arch"
  [ -n "$(field "$f" Maintainer)" ] || fail "$name: no Maintainer"
  [ "$(field "$f" Section)" = admin ] || fail "$name: Section"
  desc=$(field "$f" Description)
  [ "$(echo "$desc" | wc -l)" -ge 2 ] || fail "$name: Description has no extended description"
  [ "$(echo "$desc" | head -1 | wc -c)" -le 81 ] || fail "$name: synopsis longer than 80 characters"
  # Every file belongs to root and lives under /usr or /etc.
  dpkg-deb -c "$f" >"$TMP/$name.contents"
  bad_owner=$(awk '$2 != "root/root"' "$TMP/$name.contents")
  [ -z "$bad_owner" ] || fail "$name: files not owned by root: $bad_owner"
  bad_path=$(awk '{print $6}' "$TMP/$name.contents" | grep -Ev '^\./($|usr/|etc/)' || true)
  [ -z "$bad_path" ] || fail "$name: files outside /usr and /etc: $bad_path"
done
for name in ironstone-seeder ironstone-build ironstone-flasher; do
  deps=$(field "$(deb $name "$ARCH")" Depends)
  for lib in libc6 libstdc++6 libsodium23 libtorrent-rasterbar2.0; do
    grep -q "$lib" <<<"$deps" || fail "$name: Depends '$deps' lacks $lib (dpkg-shlibdeps)"
  done
done
grep -q "systemd | adduser" <<<"$(field "$(deb ironstone-seeder "$ARCH")" Depends)" || fail "ironstone-seeder: Depends lacks 'systemd | adduser'"
grep -q "ironstone-boards (= $V)" <<<"$(field "$(deb ironstone-flasher "$ARCH")" Depends)" || fail "ironstone-flasher: Depends lacks ironstone-boards (= $V)"
ok "metadata: Package, Version $V, Architecture, Maintainer, Description, Depends"

# ------------------------------------------------------------------ contents
# has PACKAGE MODE PATH: the package holds PATH with that mode string.
has() {
  awk -v m="$2" -v p="./$3" '$1 == m && ($6 == p || $6 == p "/") { found = 1 } END { exit !found }' "$TMP/$1.contents" ||
    fail "$1: expected $2 $3 in: $(awk '{print $1, $6}' "$TMP/$1.contents" | tr '\n' ' ')"
}
has ironstone-seeder -rwxr-xr-x usr/bin/ironstone-seeder
has ironstone-seeder -rw-r--r-- usr/lib/systemd/system/ironstone-seeder.service
has ironstone-seeder -rw-r--r-- usr/lib/sysusers.d/ironstone-seeder.conf
has ironstone-seeder -rw-r--r-- etc/ironstone/seeder.toml
has ironstone-seeder -rw-r--r-- usr/share/doc/ironstone-seeder/seeder.md
has ironstone-seeder -rw-r--r-- usr/share/doc/ironstone-seeder/examples/seeder.toml.example
has ironstone-build -rwxr-xr-x usr/bin/ironstone-build
has ironstone-build -rw-r--r-- usr/share/doc/ironstone-build/release-format.md
has ironstone-build -rw-r--r-- usr/share/doc/ironstone-build/examples/config.env.example
has ironstone-flasher -rwxr-xr-x usr/bin/ironstone-flasher
has ironstone-flasher -rw-r--r-- usr/share/doc/ironstone-flasher/examples/flasher.conf.example
if grep -q systemd "$TMP/ironstone-flasher.contents"; then fail "ironstone-flasher ships a systemd unit"; fi
for p in "$SRC"/boards/*.json; do has ironstone-boards -rw-r--r-- "usr/share/ironstone/boards/$(basename "$p")"; done
if [[ $PACKAGES == *ironstone-bench* ]]; then
  has ironstone-bench -rwxr-xr-x usr/bin/ironstone-bench
  has ironstone-bench -rwxr-xr-x usr/share/ironstone/make-image.sh
fi
# Stripped binaries (CPACK_STRIP_FILES): no .symtab.
if command -v readelf >/dev/null; then
  dpkg-deb --fsys-tarfile "$(deb ironstone-seeder "$ARCH")" | tar -xO ./usr/bin/ironstone-seeder >"$TMP/seeder.bin"
  if readelf -S "$TMP/seeder.bin" | grep -q '\.symtab'; then fail "ironstone-seeder is not stripped"; fi
fi
# The example config of `ironstone-build --config` is the repository's, every key of it.
dpkg-deb --fsys-tarfile "$(deb ironstone-build "$ARCH")" |
  tar -xO ./usr/share/doc/ironstone-build/examples/config.env.example >"$TMP/config.env.example"
cmp -s "$TMP/config.env.example" "$SRC/config.env.example" ||
  fail "ironstone-build: usr/share/doc/ironstone-build/examples/config.env.example differs from $SRC/config.env.example"
ok "contents: binaries 0755, unit, sysusers, conffile, docs, examples, $(ls "$SRC"/boards/*.json | wc -l) board profiles"

# ------------------------------------------------------------------ control files of the seeder
dpkg-deb -e "$(deb ironstone-seeder "$ARCH")" "$TMP/control"
[ "$(cat "$TMP/control/conffiles")" = /etc/ironstone/seeder.toml ] || fail "conffiles: $(cat "$TMP/control/conffiles")"
for s in postinst prerm postrm; do
  [ -x "$TMP/control/$s" ] || fail "control: $s missing or not executable"
  sh -n "$TMP/control/$s" || fail "control: $s is not valid sh"
done
# The unit, the sysusers file, the postinst and the config name the same user, store and paths.
unit=$(dpkg-deb --fsys-tarfile "$(deb ironstone-seeder "$ARCH")" | tar -xO ./usr/lib/systemd/system/ironstone-seeder.service)
sysusers=$(dpkg-deb --fsys-tarfile "$(deb ironstone-seeder "$ARCH")" | tar -xO ./usr/lib/sysusers.d/ironstone-seeder.conf)
conf=$(dpkg-deb --fsys-tarfile "$(deb ironstone-seeder "$ARCH")" | tar -xO ./etc/ironstone/seeder.toml)
unit_key() { sed -n "s/^$1=//p" <<<"$unit"; }
[ "$(unit_key User)" = ironstone ] || fail "unit: User=$(unit_key User), expected ironstone"
[ "$(unit_key Group)" = ironstone ] || fail "unit: Group=$(unit_key Group), expected ironstone"
grep -q '^DynamicUser' <<<"$unit" && fail "unit: DynamicUser set (the package makes a real user)"
[ "$(unit_key ExecStart | cut -d' ' -f1)" = /usr/bin/ironstone-seeder ] || fail "unit: ExecStart=$(unit_key ExecStart)"
grep -q -- "--config /etc/ironstone/seeder.toml" <<<"$(unit_key ExecStart)" || fail "unit: ExecStart does not read /etc/ironstone/seeder.toml"
[ "$(unit_key ReadOnlyPaths)" = /srv/ironstone ] || fail "unit: ReadOnlyPaths=$(unit_key ReadOnlyPaths)"
grep -q '^store = "/srv/ironstone"$' <<<"$conf" || fail "seeder.toml: store is not /srv/ironstone"
grep -q '^STORE=/srv/ironstone$' "$TMP/control/postinst" || fail "postinst: store is not /srv/ironstone"
[ "$(awk '$1 == "u" {print $2}' <<<"$sysusers")" = ironstone ] || fail "sysusers: no user ironstone"
ok "seeder: conffile, maintainer scripts, unit/sysusers/postinst/config agree (user ironstone, /srv/ironstone)"

# ------------------------------------------------------------------ install into a throw-away root
ROOT=$TMP/root
mkdir -p "$ROOT/etc" "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/triggers"
: >"$ROOT/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
# The libraries are the host's: the root has no dpkg database of them (--force-depends).
dpkg_root() { dpkg --root="$ROOT" --force-script-chrootless --force-depends --log="$TMP/dpkg.log" "$@"; }
dpkg_root -i "$(deb ironstone-boards all)" "$(deb ironstone-seeder "$ARCH")" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "dpkg --root -i failed"; }
[ "$(dpkg-query --root="$ROOT" -W -f='${Status}' ironstone-seeder)" = "install ok installed" ] ||
  fail "ironstone-seeder not installed in the root: $(dpkg-query --root="$ROOT" -W -f='${Status}' ironstone-seeder)"

pw=$(awk -F: '$1 == "ironstone"' "$ROOT/etc/passwd")
[ -n "$pw" ] || fail "postinst made no user ironstone in ROOT/etc/passwd"
uid=$(cut -d: -f3 <<<"$pw") gid=$(cut -d: -f4 <<<"$pw")
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "user ironstone has uid $uid, expected a system uid"
[ "$(cut -d: -f7 <<<"$pw")" = /usr/sbin/nologin ] || fail "user ironstone has shell $(cut -d: -f7 <<<"$pw")"
[ "$(awk -F: '$1 == "ironstone" {print $3}' "$ROOT/etc/group")" = "$gid" ] || fail "group ironstone is not the user's primary group"
[ -d "$ROOT/srv/ironstone" ] || fail "postinst made no store $ROOT/srv/ironstone"
[ "$(stat -c '%u:%g %a' "$ROOT/srv/ironstone")" = "$uid:$gid 2775" ] ||
  fail "store is $(stat -c '%u:%g %a' "$ROOT/srv/ironstone"), expected $uid:$gid 2775"
link=$ROOT/etc/systemd/system/multi-user.target.wants/ironstone-seeder.service
[ -L "$link" ] || fail "the unit is not enabled in the root (no $link)"
[ "$(readlink "$link")" = /usr/lib/systemd/system/ironstone-seeder.service ] || fail "enablement points at $(readlink "$link")"
[ -x "$ROOT/usr/bin/ironstone-seeder" ] || fail "no $ROOT/usr/bin/ironstone-seeder"
"$ROOT/usr/bin/ironstone-seeder" --help >/dev/null || fail "the installed ironstone-seeder does not run"
[ -f "$ROOT/usr/share/ironstone/boards/rpi5.json" ] || fail "ironstone-boards: no rpi5.json in the root"
if command -v systemd-analyze >/dev/null; then
  # The installed unit, offline, with its ExecStart pointed into the root (the binary is not on the
  # host): any remark (unknown key, bad value, missing program) fails.
  mkdir -p "$TMP/verify"
  sed "s|^ExecStart=/usr/bin/|ExecStart=$ROOT/usr/bin/|" "$ROOT/usr/lib/systemd/system/ironstone-seeder.service" \
    >"$TMP/verify/ironstone-seeder.service"
  systemd-analyze verify "$TMP/verify/ironstone-seeder.service" >"$TMP/verify.log" 2>&1 ||
    { cat "$TMP/verify.log" >&2; fail "systemd-analyze verify of the unit"; }
  [ ! -s "$TMP/verify.log" ] || { cat "$TMP/verify.log" >&2; fail "systemd-analyze verify remarks on the unit"; }
  ok "systemd-analyze verify: the unit has no remarks"
fi
ok "install into $ROOT: user ironstone ($uid:$gid, nologin), /srv/ironstone $uid:$gid 2775, unit enabled"

# A second configure (upgrade path) keeps an existing store and user as they are.
chmod g-s,o-rx "$ROOT/srv/ironstone"
before=$(stat -c '%u:%g %a' "$ROOT/srv/ironstone")
dpkg_root -i "$(deb ironstone-seeder "$ARCH")" >>"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; fail "reinstall failed"; }
[ "$(stat -c '%u:%g %a' "$ROOT/srv/ironstone")" = "$before" ] || fail "reinstall changed the existing store ($before)"
[ "$(grep -c '^ironstone:' "$ROOT/etc/passwd")" = 1 ] || fail "reinstall made a second user"
ok "reinstall keeps the store and the user"

# Remove, then purge: files and enablement go, the conffile goes on purge, user and store stay.
dpkg_root -r ironstone-seeder >>"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; fail "dpkg -r failed"; }
[ ! -e "$ROOT/usr/bin/ironstone-seeder" ] || fail "remove left the binary"
[ -f "$ROOT/etc/ironstone/seeder.toml" ] || fail "remove deleted the conffile (only purge may)"
dpkg_root -P ironstone-seeder >>"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; fail "dpkg -P failed"; }
[ ! -e "$ROOT/etc/ironstone/seeder.toml" ] || fail "purge left the conffile"
[ ! -e "$link" ] || fail "purge left the unit enabled"
[ -d "$ROOT/srv/ironstone" ] || fail "purge deleted the store"
grep -q '^ironstone:' "$ROOT/etc/passwd" || fail "purge deleted the user"
ok "remove and purge: binary, conffile and enablement gone; user and store kept"

[ "$(sha256sum /etc/passwd /etc/group)" = "$HOST_SUMS" ] || fail "the host's /etc/passwd or /etc/group changed"
ok "the host's /etc/passwd and /etc/group are unchanged"
if command -v lintian >/dev/null; then
  lintian --no-tag-display-limit "$TMP"/out/*.deb || echo "lintian reported the tags above (not a failure of this test)"
else
  echo "note: lintian not installed; not run"
fi
echo "PASS"

// The re-flash order script every gold image gets (builder/gold.h, docs/first-boot.md
// "Re-flash orders"; the order's form: api/node_order.h).
#include "builder/gold.h"

namespace ironstone::builder {

std::string orders_script_text() {
  return R"SH(#!/bin/sh
# ironstone-orders.service (written by `ironstone-build gold`): carry out a re-flash order.
# GET $IRONSTONE_SEEDER_URL/v1/nodes/$IRONSTONE_NODE_ID/order: 204 none; 200 an order whose
# X-Ironstone-Order-Auth header is the HMAC-SHA256 of the body under this node's order key.
# Acted on only when the HMAC, the node id, the action and the expiry check, and each order id
# at most once. Then: report "reflashing", re-arm the installer card where the board disarms it,
# make this disk unbootable (wipefs, with a backup), reboot into the card.
# Test overrides: IRONSTONE_NODE_ENV, IRONSTONE_ORDER_KEY, IRONSTONE_STATE_DIR, IRONSTONE_LIB,
# IRONSTONE_ORDER_DISK, IRONSTONE_REBOOT.
set -u
NODE_ENV=${IRONSTONE_NODE_ENV:-/etc/ironstone/node.env}
KEY_FILE=${IRONSTONE_ORDER_KEY:-/etc/ironstone/order.key}
STATE=${IRONSTONE_STATE_DIR:-/var/lib/ironstone}
say() { echo "ironstone-orders: $*"; }
[ -r "$NODE_ENV" ] || { say "$NODE_ENV is absent (not flashed by Ironstone?): no orders to check"; exit 0; }
. "$NODE_ENV"
. "${IRONSTONE_LIB:-/usr/local/lib/ironstone}/report.sh"
key=$(tr -d ' \n\r' < "$KEY_FILE" 2>/dev/null) || key=
case "$key" in *[!0-9a-f]*|'') say "$KEY_FILE: not 64 hex digits; orders refused"; exit 1 ;; esac
[ ${#key} -eq 64 ] || { say "$KEY_FILE: not 64 hex digits; orders refused"; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
url="$IRONSTONE_SEEDER_URL/v1/nodes/$IRONSTONE_NODE_ID/order"
code=$(curl -sS --max-time 20 --max-filesize 1024 -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$url") ||
  { say "GET $url failed; asking again later"; exit 0; }
case "$code" in
  204) exit 0 ;;
  200) ;;
  *) say "GET $url: HTTP $code; asking again later"; exit 0 ;;
esac
auth=$(tr -d '\r' < "$tmp/headers" | sed -n 's/^[Xx]-[Ii]ronstone-[Oo]rder-[Aa]uth: *\([0-9a-f]\{64\}\)$/\1/p' | tail -n 1)
want=$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" < "$tmp/body" | sed 's/^.*= *//')
if [ -z "$auth" ] || [ "$auth" != "$want" ]; then
  say "refused an order from $url: it does not authenticate under $KEY_FILE"
  exit 1
fi
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$tmp/body"; }
id=$(field id); node=$(field node_id); action=$(field action); expires=$(field expires)
case "$id" in *[!0-9a-f]*|'') say "order from $url: bad id"; exit 1 ;; esac
[ "$node" = "$IRONSTONE_NODE_ID" ] || { say "order $id is for node '$node', not '$IRONSTONE_NODE_ID': refused"; exit 1; }
[ "$action" = reflash ] || { say "order $id: unknown action '$action': refused"; exit 1; }
case "$expires" in *[!0-9]*|'') say "order $id: bad expiry"; exit 1 ;; esac
[ "$expires" -gt "$(date +%s)" ] || { say "order $id expired at $expires (check this node's clock): refused"; exit 1; }
mkdir -p "$STATE"
if grep -qx "$id" "$STATE/orders.done" 2>/dev/null; then exit 0; fi
echo "$id" >> "$STATE/orders.done" && sync
say "re-flash order $id taken"
IRONSTONE_ORDER_ID=$id ironstone_report reflashing
fail() { say "re-flash order $id: $1"; ironstone_report failed reflash "$1"; exit 1; }
# Boards whose firmware boots the card first get the card disarmed after a flash
# (docs/installer.md "Self-disarm"): re-arm it with the card's own flasher, else the node
# would boot neither the card nor the wiped disk.
case "${IRONSTONE_BOARD:-}" in
  rock5b)
    card=${IRONSTONE_CARD:-/dev/mmcblk1}
    mnt="$tmp/card"; mkdir -p "$mnt"
    mount "${card}p1" "$mnt" || fail "cannot mount the installer card ${card}p1 to re-arm it (is it inserted?)"
    LD_LIBRARY_PATH="$mnt/usr/local/lib/ironstone" "$mnt/usr/local/bin/ironstone-flasher" --rearm "$card" \
      --profiles "$mnt/usr/share/ironstone/boards"
    rc=$?
    umount "$mnt"
    [ "$rc" = 0 ] || fail "re-arming the installer card $card failed"
    ;;
esac
disk=${IRONSTONE_ORDER_DISK:-}
if [ -z "$disk" ]; then
  parent=$(lsblk -n -o PKNAME "$(findmnt -n -o SOURCE /)" 2>/dev/null | head -n 1)
  [ -n "$parent" ] || fail "cannot find the disk of /"
  disk=/dev/$parent
fi
mkdir -p "$STATE/wipefs-backup"
(cd "$STATE/wipefs-backup" && HOME="$STATE/wipefs-backup" wipefs --all --force --backup "$disk") ||
  fail "wipefs $disk failed"
sync
say "$disk is no longer bootable (signatures saved in $STATE/wipefs-backup); rebooting into the installer card"
${IRONSTONE_REBOOT:-systemctl reboot}
)SH";
}

}  // namespace ironstone::builder

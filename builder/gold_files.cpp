// The texts `ironstone-build gold` writes into every image (builder/gold.h).
#include "builder/gold.h"

namespace ironstone::builder {

std::string datasource_config_text(const std::string& seed_dir) {
  return "# Written by `ironstone-build gold` (docs/gold-image.md): the flasher writes this node's NoCloud\n"
         "# seed (user-data, meta-data) onto the boot partition, mounted at " + seed_dir + ".\n"
         "# Only NoCloud is tried (no network datasources, no boot-time timeouts).\n"
         "datasource_list: [NoCloud, None]\n"
         "datasource:\n"
         "  NoCloud:\n"
         "    seedfrom: file://" + seed_dir + "/\n";
}

std::string firstboot_unit_text() {
  return "# Ironstone: report the first boot to the seeder and remove the seed's secrets (docs/gold-image.md).\n"
         "[Unit]\n"
         "Description=Ironstone first boot report\n"
         "After=cloud-final.service network-online.target\n"
         "Wants=network-online.target\n"
         "ConditionPathExists=!/var/lib/ironstone/firstboot.done\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=/usr/local/lib/ironstone/firstboot.sh\n"
         "RemainAfterExit=yes\n"
         "StandardOutput=journal+console\n"
         "\n"
         "[Install]\n"
         "WantedBy=cloud-init.target\n";
}

std::string k3s_init_unit_text() {
  return "# Ironstone: start k3s once, as server or agent per /etc/ironstone/node.env (docs/gold-image.md).\n"
         "# Skipped (not failed) without a k3s binary or without cloud-init's /etc/rancher/k3s/config.yaml.\n"
         "[Unit]\n"
         "Description=Ironstone k3s first start\n"
         "After=cloud-final.service ironstone-firstboot.service network-online.target\n"
         "Wants=network-online.target\n"
         "ConditionPathExists=/etc/rancher/k3s/config.yaml\n"
         "ConditionFileIsExecutable=/usr/local/bin/k3s\n"
         "ConditionPathExists=!/var/lib/ironstone/k3s-init.done\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=/usr/local/lib/ironstone/k3s-init.sh\n"
         "RemainAfterExit=yes\n"
         "TimeoutStartSec=15min\n"
         "StandardOutput=journal+console\n"
         "\n"
         "[Install]\n"
         "WantedBy=cloud-init.target\n";
}

std::string report_script_text() {
  return R"SH(# Sourced by the Ironstone first-boot scripts: ironstone_report STATE [STAGE REASON]
# POSTs {"state":…,"hostname":…,"board":…,"release":…,"sequence":…} to the seeder
# (CONTRACT: POST $IRONSTONE_SEEDER_URL/v1/nodes/$IRONSTONE_NODE_ID/lifecycle).
ironstone_json() { printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g' | cut -c1-1000; }
ironstone_report() {
  seq=${IRONSTONE_SEQUENCE:-0}
  case "$seq" in ''|*[!0-9]*) seq=0 ;; esac
  body="{\"state\":\"$1\""
  if [ -n "${2:-}" ]; then
    body="$body,\"stage\":\"$(ironstone_json "$2")\",\"reason\":\"$(ironstone_json "${3:-}")\""
  fi
  body="$body,\"hostname\":\"$(ironstone_json "$(hostname)")\",\"board\":\"$(ironstone_json "${IRONSTONE_BOARD:-}")\""
  body="$body,\"release\":\"$(ironstone_json "${IRONSTONE_RELEASE:-}")\",\"sequence\":$seq"
  # With "booted": whether k3s will start (binary and role present), so the seeder waits for "joined".
  if [ "$1" = booted ]; then
    if [ -x "${IRONSTONE_K3S_BIN:-/usr/local/bin/k3s}" ] && [ -n "${IRONSTONE_K3S_ROLE:-}" ]; then
      body="$body,\"join_expected\":true"
    else
      body="$body,\"join_expected\":false"
    fi
  fi
  # With "reflashing": the re-flash order taken (orders.sh sets IRONSTONE_ORDER_ID).
  if [ -n "${IRONSTONE_ORDER_ID:-}" ]; then body="$body,\"order\":\"$(ironstone_json "$IRONSTONE_ORDER_ID")\""; fi
  body="$body}"
  printf '%s' "$body" | curl -fsS --retry 20 --retry-connrefused --retry-delay 3 --max-time 10 \
    -H 'Content-Type: application/json' --data @- \
    "$IRONSTONE_SEEDER_URL/v1/nodes/$IRONSTONE_NODE_ID/lifecycle" ||
    echo "ironstone: could not report '$1' to $IRONSTONE_SEEDER_URL" >&2
}
)SH";
}

std::string firstboot_script_text(const std::string& seed_dir) {
  return "#!/bin/sh\n"
         "# ironstone-firstboot.service (written by `ironstone-build gold`).\n"
         "set -u\n"
         "SEED_DIR=" + seed_dir + "\n" + R"SH(mkdir -p /var/lib/ironstone
if [ ! -r /etc/ironstone/node.env ]; then
  echo "ironstone-firstboot: /etc/ironstone/node.env is absent (not flashed by Ironstone?): nothing to report"
  touch /var/lib/ironstone/firstboot.done
  exit 0
fi
. /etc/ironstone/node.env
. /usr/local/lib/ironstone/report.sh
ironstone_report booted
# cloud-init has applied the seed (this unit runs after cloud-final): the k3s token and any
# other secret in user-data is not needed on the boot partition any more.
if [ -f "$SEED_DIR/user-data" ]; then
  printf '#cloud-config\n# Secrets removed by ironstone-firstboot after the first boot.\n{}\n' > "$SEED_DIR/user-data.tmp" &&
    mv "$SEED_DIR/user-data.tmp" "$SEED_DIR/user-data" && sync
  echo "ironstone-firstboot: secrets removed from $SEED_DIR/user-data"
fi
touch /var/lib/ironstone/firstboot.done
)SH";
}

std::string k3s_init_script_text() {
  return R"SH(#!/bin/sh
# ironstone-k3s-init.service (written by `ironstone-build gold`): start k3s exactly once.
set -u
mkdir -p /var/lib/ironstone
if [ ! -r /etc/ironstone/node.env ]; then
  echo "ironstone-k3s-init: /etc/ironstone/node.env is absent: k3s not started"
  exit 0
fi
. /etc/ironstone/node.env
. /usr/local/lib/ironstone/report.sh
case "${IRONSTONE_K3S_ROLE:-}" in
  server) unit=k3s.service ;;
  agent) unit=k3s-agent.service ;;
  *) echo "ironstone-k3s-init: no IRONSTONE_K3S_ROLE in /etc/ironstone/node.env: k3s not started"; exit 0 ;;
esac
touch /var/lib/ironstone/k3s-init.done
if systemctl enable "$unit" && systemctl start "$unit"; then
  ironstone_report joined
else
  ironstone_report failed k3s "$unit failed to start"
  exit 1
fi
)SH";
}

std::string orders_unit_text() {
  return "# Ironstone: carry out a re-flash order from the seeder (docs/first-boot.md \"Re-flash orders\").\n"
         "# Skipped without the order key the flasher's seed gave this node.\n"
         "[Unit]\n"
         "Description=Ironstone re-flash order check\n"
         "After=network-online.target ironstone-firstboot.service\n"
         "Wants=network-online.target\n"
         "ConditionPathExists=/etc/ironstone/order.key\n"
         "ConditionPathExists=/etc/ironstone/node.env\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=/usr/local/lib/ironstone/orders.sh\n"
         "StandardOutput=journal+console\n";
}

std::string orders_timer_text() {
  return "# Ironstone: ask the seeder for a re-flash order every minute (docs/first-boot.md).\n"
         "[Unit]\n"
         "Description=Ironstone re-flash order check, every minute\n"
         "\n"
         "[Timer]\n"
         "OnBootSec=90s\n"
         "OnUnitActiveSec=60s\n"
         "RandomizedDelaySec=15s\n"
         "\n"
         "[Install]\n"
         "WantedBy=timers.target\n";
}

std::string k3s_unit_text(bool agent, const std::vector<std::string>& args) {
  const std::string name = agent ? "k3s-agent" : "k3s";
  std::string exec = "ExecStart=/usr/local/bin/k3s \\\n    " + std::string(agent ? "agent" : "server");
  for (const auto& a : args) exec += " \\\n    '" + a + "'";
  return "# As the official k3s installer writes it (not enabled: ironstone-k3s-init.service enables it once).\n"
         "[Unit]\n"
         "Description=Lightweight Kubernetes\n"
         "Documentation=https://k3s.io\n"
         "Wants=network-online.target\n"
         "After=network-online.target\n"
         "\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n"
         "\n"
         "[Service]\n"
         "Type=" + std::string(agent ? "exec" : "notify") + "\n"
         "EnvironmentFile=-/etc/default/%N\n"
         "EnvironmentFile=-/etc/sysconfig/%N\n"
         "EnvironmentFile=-/etc/systemd/system/" + name + ".service.env\n"
         "KillMode=process\n"
         "Delegate=yes\n"
         "LimitNOFILE=1048576\n"
         "LimitNPROC=infinity\n"
         "LimitCORE=infinity\n"
         "TasksMax=infinity\n"
         "TimeoutStartSec=0\n"
         "Restart=always\n"
         "RestartSec=5s\n"
         "ExecStartPre=-/sbin/modprobe br_netfilter\n"
         "ExecStartPre=-/sbin/modprobe overlay\n" +
         exec + "\n";
}

std::string peer_unit_text() {
  return "# Peer mode on a provisioned node (docs/peer-mode.md): keeps verified copies of the NAS's releases of\n"
         "# this board and seeds them. Settings: /etc/ironstone/peer.env (a gold recipe's peer: writes it and\n"
         "# enables this unit; no package enables it).\n"
         "[Unit]\n"
         "Description=Ironstone peer seeder (re-seeds this rack's releases)\n"
         "After=network-online.target\n"
         "Wants=network-online.target\n"
         "ConditionPathExists=/etc/ironstone/peer.env\n"
         "\n"
         "[Service]\n"
         "EnvironmentFile=/etc/ironstone/peer.env\n"
         "ExecStart=/usr/local/bin/ironstone-seeder --peer-of ${PEER_OF} --store /var/lib/ironstone/peer \\\n"
         "    --public-key /etc/ironstone/release.pub $PEER_ARGS\n"
         "Nice=10\n"
         "IOSchedulingClass=best-effort\n"
         "IOSchedulingPriority=7\n"
         "StateDirectory=ironstone\n"
         "Restart=on-failure\n"
         "RestartSec=10\n"
         "\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n";
}

std::string peer_env_text(const PeerSpec& peer) {
  std::string args;
  for (const auto& c : peer.channels) args += " --channel " + c;
  if (!peer.upload_limit.empty()) args += " --upload-limit " + peer.upload_limit;
  if (!peer.max_store.empty()) args += " --max-store " + peer.max_store;
  args += " --keep " + std::to_string(peer.keep);
  return "# Written by `ironstone-build gold` from the recipe's peer: (docs/peer-mode.md); read by\n"
         "# ironstone-peer.service.\n"
         "PEER_OF=" + peer.upstream + "\n"
         "PEER_ARGS=" + args.substr(1) + "\n";
}

}  // namespace ironstone::builder

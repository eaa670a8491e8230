#!/bin/bash
# Traces a running `ironstone-bench rack` (netns mode, as root): every ~0.5 s, the transmitted bytes of
# the NAS port and the received and transmitted bytes of every node's port (interface counters: wire
# bytes, headers included), one line a sample: "t nas_tx n1_rx n1_tx n2_rx n2_tx ...", t in seconds
# from the first sample. Waits (200 s at most) for the rack's namespaces (isb<pid>-nas, -n1..) to appear
# and stops when they are gone (800 samples at most). It only reads counters: it changes nothing.
#
#   usage: bench/rack_trace.sh OUT NODES     (start it just before the rack; see docs/performance.md)
set -u
out=$1 nodes=$2
: > "$out"
prefix=""
for _ in $(seq 1 400); do
  prefix=$(ip netns list 2>/dev/null | sed -n 's/^\(isb[0-9]*\)-nas.*/\1/p' | head -1)
  [ -n "$prefix" ] && break
  sleep 0.5
done
[ -n "$prefix" ] || { echo "rack_trace: no isb<pid>-nas namespace appeared" >&2; exit 1; }
# The largest counter of a namespace's interfaces (its one veth; lo carries next to nothing).
counter() { ip netns exec "$1" sh -c "cat /sys/class/net/*/statistics/$2 2>/dev/null" 2>/dev/null | sort -n | tail -1; }
t0=$(date +%s.%N)
for _ in $(seq 1 800); do
  nas=$(counter "$prefix-nas" tx_bytes)
  [ -n "$nas" ] || break
  line="$(awk -v now="$(date +%s.%N)" -v t0="$t0" 'BEGIN { printf "%.2f", now - t0 }') $nas"
  for k in $(seq 1 "$nodes"); do line="$line $(counter "$prefix-n$k" rx_bytes) $(counter "$prefix-n$k" tx_bytes)"; done
  echo "$line" >> "$out"
  sleep 0.5
done

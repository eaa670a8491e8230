// UDP multicast with udpcast: udp-sender on the NAS (--min-receivers N, --max-bitrate
// just under the NAS link), udp-receiver | zstd -d on every node. Skipped, with the reason,
// when udpcast is not installed or the interface cannot multicast.
#pragma once
#include "bench/method.h"

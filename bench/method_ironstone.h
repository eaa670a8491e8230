// Ironstone: the real ironstone-seeder on the NAS host and one ironstone-flasher per node
// host (target = a file, --skip-firmware --power stay-up), each in its own namespace.
#pragma once
#include "bench/method.h"

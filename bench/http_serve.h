// A tiny HTTP/1.1 file server for the HTTP-unicast method: GET of any path returns the one
// file (sendfile, a thread per connection). Runs as `ironstone-bench serve` inside the NAS
// namespace. Prints "serve: listening on ADDR:PORT" once bound; runs until SIGTERM/SIGINT.
#pragma once

#include <string>

namespace ironstone::bench {

int serve_file(const std::string& listen_addr, int port, const std::string& file);

}  // namespace ironstone::bench

#include "bench/http_serve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "bench/proc.h"

namespace ironstone::bench {

namespace {

std::atomic<unsigned long long> g_sent{0};

void handle(int c, const std::string& file) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) {
      close(c);
      return;
    }
    req.append(buf, std::size_t(n));
  }
  int fd = open(file.c_str(), O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    const char* e = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    send(c, e, std::strlen(e), MSG_NOSIGNAL);
    if (fd >= 0) close(fd);
    close(c);
    return;
  }
  bool head = req.rfind("HEAD ", 0) == 0;
  std::string hdr = "HTTP/1.1 200 OK\r\nContent-Type: application/zstd\r\nContent-Length: " +
                    std::to_string(st.st_size) + "\r\nConnection: close\r\n\r\n";
  send(c, hdr.data(), hdr.size(), MSG_NOSIGNAL);
  off_t off = 0;
  while (!head && off < st.st_size) {
    ssize_t n = sendfile(c, fd, &off, std::size_t(st.st_size - off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    g_sent += std::uint64_t(n);
  }
  close(fd);
  shutdown(c, SHUT_WR);
  close(c);
}

}  // namespace

int serve_file(const std::string& listen_addr, int port, const std::string& file) {
  install_signal_flag();
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  if (inet_pton(AF_INET, listen_addr.c_str(), &a.sin_addr) != 1) {
    std::fprintf(stderr, "serve: bad address %s\n", listen_addr.c_str());
    return 2;
  }
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 256) != 0) {
    std::fprintf(stderr, "serve: bind %s:%d: %s\n", listen_addr.c_str(), port, std::strerror(errno));
    return 1;
  }
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  std::printf("serve: listening on %s:%d\n", listen_addr.c_str(), ntohs(a.sin_port));
  std::fflush(stdout);
  // Poll so a signal ends the loop.
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
  while (!interrupted()) {
    int c = accept(s, nullptr, nullptr);
    if (c < 0) {
      usleep(10000);
      continue;
    }
    fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
    std::thread(handle, c, file).detach();
  }
  std::printf("serve: sent %llu bytes\n", g_sent.load());
  std::fflush(stdout);
  return 0;
}

}  // namespace ironstone::bench

// A small synchronous HTTP/1.1 client (Boost.Beast) for the seeder's API: channel
// pointers, manifests, node status reports. One TCP connection per request
// ("Connection: close"); http:// only (see url.h).
//
// Bounds: every request has a hard time limit covering connect, sending and the whole
// response (RequestOptions::timeout; DNS resolution of names uses the system resolver
// and is not covered by it), and a hard body limit checked against Content-Length
// before any body memory is allocated, and while reading chunked/close-delimited
// bodies (Errc::kTooLarge).
//
// Errors: ironstone::Error with swarm::Errc, the message naming method and URL, e.g.
//   "GET http://127.0.0.1:8080/x: connect to 127.0.0.1:8080: Connection refused".
// http_get()/http_post_json() return any HTTP status (4xx/5xx are not errors there);
// get_with_retry() returns only 2xx and throws otherwise.
//
// Thread safety: all functions are reentrant (each call owns its io_context and socket);
// they block the calling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "swarm/errc.h"
#include "swarm/url.h"

namespace ironstone::swarm {

struct HttpResponse {
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in received order
  std::string body;

  // Value of the first header called `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

struct RequestOptions {
  std::chrono::milliseconds timeout{30'000};       // connect + whole exchange
  std::size_t max_body = 64 * 1024 * 1024;         // hard limit of the response body
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  // get_with_retry() returns responses with these 3xx/4xx statuses instead of throwing
  // (e.g. 404 when "not found" is an answer, not a failure). Ignored by the others.
  std::vector<unsigned> accept_status;
  // Read a body with a Content-Length by blocking reads straight into the result, up to
  // 1 MiB each (MSG_WAITALL), instead of the asynchronous reader. A large body arrives at
  // the line rate in ~1.4 KiB segments and every one woke that reader (recvmsg,
  // epoll_wait and a timer re-arm each; measured: 1.2 M syscalls for a 195 MiB stripe).
  // The time limit and body limit hold the same way.
  bool bulk_body = false;
  // Content-Type of a POST or PUT body.
  std::string content_type = "application/json";
};

HttpResponse http_get(const Url& url, const RequestOptions& options = {});
HttpResponse http_get(std::string_view url, const RequestOptions& options = {});

// POSTs `json` with Content-Type: application/json.
HttpResponse http_post_json(const Url& url, std::string_view json, const RequestOptions& options = {});
HttpResponse http_post_json(std::string_view url, std::string_view json, const RequestOptions& options = {});

// One request of any of GET, POST, PUT, DELETE (`method`); `body` is sent with POST and PUT
// (as options.content_type). Any HTTP status is returned, as with http_get(). An unsupported
// method is Errc::kUrl.
HttpResponse http_send(const Url& url, std::string_view method, std::string_view body,
                       const RequestOptions& options = {});

// GET with up to `attempts` tries (at least 1). Retries, sleeping initial_backoff, then
// twice as long each time up to max_backoff, on name resolution and connection
// failures, timeouts and 5xx answers. Does not retry 3xx/4xx (kHttpStatus, thrown at
// once with the status and the start of the body), bad URLs (kUrl), malformed HTTP
// (kProtocol) or oversized bodies (kTooLarge). When every attempt failed, throws the
// last failure's code with a message naming the URL, the attempts and the last error:
//   "GET http://seeder:8080/x: failed after 3 attempts; last error: HTTP 503 Service Unavailable".
HttpResponse get_with_retry(std::string_view url, int attempts, std::chrono::milliseconds initial_backoff,
                            std::chrono::milliseconds max_backoff, const RequestOptions& options = {});

// The request failures a later attempt may fix (what get_with_retry() retries): the host did not
// resolve, the connection failed or broke (kConnect), the exchange timed out.
bool retryable(const std::error_code& code);

}  // namespace ironstone::swarm

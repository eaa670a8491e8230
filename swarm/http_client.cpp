#include "swarm/http_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <thread>

#include <spdlog/spdlog.h>

namespace ironstone::swarm {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Failure of one exchange, message without the "GET <url>: " prefix.
Error fail(Errc code, const std::string& message) { return error(code, message); }

Error map_error(const beast::error_code& ec, const char* stage, const Url& url, const RequestOptions& o) {
  if (ec == beast::error::timeout) {
    return fail(Errc::kTimeout, std::string("timed out after ") + std::to_string(o.timeout.count()) +
                                    " ms (during " + stage + ")");
  }
  if (ec == http::error::body_limit) {
    return fail(Errc::kTooLarge, "response body exceeds the limit of " + std::to_string(o.max_body) + " bytes");
  }
  if (ec == http::error::header_limit) return fail(Errc::kTooLarge, "response header too large");
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return fail(Errc::kProtocol, std::string("malformed response: ") + ec.message());
  }
  std::string where = std::string(stage) + (std::string_view(stage) == "connect" ? " to " + url.host_header() : "");
  return fail(Errc::kConnect, where + ": " + ec.message());
}

// Runs the io_context until the pending operation has completed.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

// The `length` body bytes after the header: those already in `buffer`, then blocking
// MSG_WAITALL reads of up to 1 MiB, each bounded by what is left of the deadline.
std::string read_body(int fd, beast::flat_buffer& buffer, std::uint64_t length, Clock::time_point deadline,
                      const RequestOptions& o) {
  if (length > o.max_body)
    throw fail(Errc::kTooLarge, "response body exceeds the limit of " + std::to_string(o.max_body) + " bytes");
  std::string out(static_cast<std::size_t>(length), '\0');
  std::size_t got = std::min<std::size_t>(buffer.size(), out.size());
  std::memcpy(out.data(), buffer.data().data(), got);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    throw fail(Errc::kConnect, std::string("read: fcntl: ") + std::strerror(errno));
  while (got < out.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      throw fail(Errc::kTimeout, "timed out after " + std::to_string(o.timeout.count()) + " ms (during read)");
    timeval tv{static_cast<time_t>(left / 1'000'000), static_cast<suseconds_t>(left % 1'000'000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::size_t want = std::min<std::size_t>(out.size() - got, 1 << 20);
    const ssize_t n = ::recv(fd, out.data() + got, want, MSG_WAITALL);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n == 0) {
      throw fail(Errc::kProtocol, "connection closed after " + std::to_string(got) + " of " +
                                      std::to_string(out.size()) + " body bytes");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      throw fail(Errc::kTimeout, "timed out after " + std::to_string(o.timeout.count()) + " ms (during read)");
    } else if (errno != EINTR) {
      throw fail(Errc::kConnect, std::string("read: ") + std::strerror(errno));
    }
  }
  return out;
}

// A string body that refuses, with http::error::body_limit, a Content-Length over `limit`
// before any byte is stored, and every byte past `limit` however the body is framed
// (Content-Length, chunked, close-delimited). Beast 1.74's own body_limit is not relied on:
// when body bytes follow the header in the same read, its Content-Length check is lost.
struct LimitedStringBody {
  struct value_type {
    std::string data;
    std::uint64_t limit = 0;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      if (length && *length > body_.limit) {
        ec = http::error::body_limit;
        return;
      }
      if (length) body_.data.reserve(static_cast<std::size_t>(*length));
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      const std::size_t n = net::buffer_size(buffers);
      if (n > body_.limit - body_.data.size()) {
        ec = http::error::body_limit;
        return 0;
      }
      for (const auto b : beast::buffers_range_ref(buffers))
        body_.data.append(static_cast<const char*>(b.data()), b.size());
      ec = {};
      return n;
    }

    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using Parser = http::response_parser<LimitedStringBody>;

// Connects (within the deadline) and sends the request.
void connect_and_send(beast::tcp_stream& stream, const Url& url, http::verb verb, std::string_view body,
                      Clock::time_point deadline, const RequestOptions& o) {
  auto& ioc = static_cast<net::io_context&>(stream.get_executor().context());
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  if (auto addr = net::ip::make_address(url.host, ec); !ec) {
    endpoints.emplace_back(addr, url.port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) throw fail(Errc::kResolve, "resolve " + url.host + ": " + ec.message());
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }

  stream.expires_at(deadline);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run(ioc);
  if (ec) throw map_error(ec, "connect", url, o);

  http::request<http::string_body> req{verb, url.target, 11};
  req.set(http::field::host, url.host_header());
  req.set(http::field::user_agent, "ironstone/" IRONSTONE_VERSION);
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : o.headers) req.set(name, value);
  if (verb == http::verb::post || verb == http::verb::put) {
    req.set(http::field::content_type, o.content_type);
    req.body() = std::string(body);
  }
  req.prepare_payload();
  stream.expires_at(deadline);
  http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) throw map_error(ec, "send", url, o);
}

// Reads the header alone, then refuses a Content-Length over the limit before any body
// byte is read or any body memory allocated; then reads the body (bulk or counted).
std::string read_response(beast::tcp_stream& stream, Parser& parser, Clock::time_point deadline, const Url& url,
                          const RequestOptions& o) {
  auto& ioc = static_cast<net::io_context&>(stream.get_executor().context());
  beast::error_code ec;
  beast::flat_buffer buffer;
  parser.header_limit(64 * 1024);
  // LimitedStringBody enforces the limit. Not boost::none: Beast 1.74 compares the Content-Length
  // with the optional ("len > none" is true) and would refuse every body.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  auto& body = parser.get().body();
  body.limit = static_cast<std::uint64_t>(o.max_body);
  // A chunk announcing more than the limit leaves is refused at its size line.
  auto chunk_header = [&body](std::uint64_t size, beast::string_view, beast::error_code& ec) {
    if (size > body.limit - body.data.size()) ec = http::error::body_limit;
  };
  parser.on_chunk_header(chunk_header);
  stream.expires_at(deadline);
  http::async_read_header(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) throw map_error(ec, "read", url, o);
  const auto length = parser.content_length();
  if (length && *length > o.max_body && !parser.is_done()) {
    throw fail(Errc::kTooLarge, "response body of " + std::to_string(*length) +
                                    " bytes (Content-Length) exceeds the limit of " + std::to_string(o.max_body) +
                                    " bytes");
  }
  if (o.bulk_body && length && !parser.is_done())
    return read_body(stream.socket().native_handle(), buffer, *length, deadline, o);
  if (!parser.is_done()) {
    http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    run(ioc);
    if (ec) throw map_error(ec, "read", url, o);
  }
  return std::move(body.data);
}

HttpResponse exchange(const Url& url, http::verb verb, std::string_view body, const RequestOptions& o) {
  const auto deadline = Clock::now() + o.timeout;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  connect_and_send(stream, url, verb, body, deadline, o);
  Parser parser;
  std::string response_body = read_response(stream, parser, deadline, url, o);
  auto& msg = parser.get();
  HttpResponse r;
  r.status = msg.result_int();
  r.reason = std::string(msg.reason());
  for (const auto& field : msg) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = std::move(response_body);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

std::string prefix(http::verb verb, const Url& url) { return std::string(http::to_string(verb)) + " " + url.text(); }

HttpResponse request(const Url& url, http::verb verb, std::string_view body, const RequestOptions& o) {
  try {
    return exchange(url, verb, body, o);
  } catch (const Error& e) {
    throw e.with_context(prefix(verb, url));
  }
}

// "HTTP 404 Not Found: no release for board 'x'" — the status and the body's first line.
std::string describe_status(const HttpResponse& r) {
  std::string s = "HTTP " + std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason);
  std::string line = r.body.substr(0, std::min<std::size_t>(r.body.find('\n'), 200));
  bool printable = std::all_of(line.begin(), line.end(), [](char c) { return std::isprint(static_cast<unsigned char>(c)); });
  if (!line.empty() && printable) s += ": " + line;
  return s;
}

}  // namespace

bool retryable(const std::error_code& code) {
  return code == Errc::kResolve || code == Errc::kConnect || code == Errc::kTimeout;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(beast::string_view(n.data(), n.size()), beast::string_view(name.data(), name.size()))) return v;
  }
  return std::nullopt;
}

HttpResponse http_get(const Url& url, const RequestOptions& options) {
  return request(url, http::verb::get, {}, options);
}

HttpResponse http_get(std::string_view url, const RequestOptions& options) { return http_get(parse_url(url), options); }

HttpResponse http_post_json(const Url& url, std::string_view json, const RequestOptions& options) {
  return request(url, http::verb::post, json, options);
}

HttpResponse http_post_json(std::string_view url, std::string_view json, const RequestOptions& options) {
  return http_post_json(parse_url(url), json, options);
}

HttpResponse http_send(const Url& url, std::string_view method, std::string_view body, const RequestOptions& options) {
  const http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb != http::verb::post && verb != http::verb::put && verb != http::verb::delete_ && verb != http::verb::get)
    throw error(Errc::kUrl, std::string(method) + " " + url.text() + ": method not supported");
  return request(url, verb, body, options);
}

HttpResponse get_with_retry(std::string_view url_text, int attempts, std::chrono::milliseconds initial_backoff,
                            std::chrono::milliseconds max_backoff, const RequestOptions& options) {
  const Url url = parse_url(url_text);
  const std::string where = prefix(http::verb::get, url);
  attempts = std::max(attempts, 1);
  auto backoff = std::max(initial_backoff, std::chrono::milliseconds(0));
  std::error_code last_code;
  std::string last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      spdlog::warn("{}: attempt {}/{} failed: {}; retrying in {} ms", where, attempt - 1, attempts, last,
                   backoff.count());
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::max(max_backoff, initial_backoff));
    }
    HttpResponse r;
    try {
      r = exchange(url, http::verb::get, {}, options);
    } catch (const Error& e) {
      if (!retryable(e.code())) throw e.with_context(where);
      last_code = e.code();
      last = e.what();
      continue;
    }
    if (r.status >= 200 && r.status < 300) return r;
    if (std::find(options.accept_status.begin(), options.accept_status.end(), r.status) != options.accept_status.end())
      return r;
    if (r.status < 500) throw error(Errc::kHttpStatus, where + ": " + describe_status(r));
    last_code = Errc::kServerError;
    last = describe_status(r);
  }
  throw Error(last_code, where + ": failed after " + std::to_string(attempts) +
                             (attempts == 1 ? " attempt" : " attempts") + "; last error: " + last);
}

}  // namespace ironstone::swarm

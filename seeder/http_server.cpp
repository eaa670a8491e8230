#include "seeder/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <optional>

#include "seeder/errc.h"

namespace ironstone::seeder {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace detail {
struct HttpShared {
  HttpServerOptions options;
  HttpServer::Dispatch dispatch;
  std::shared_ptr<HttpStats> stats;
  std::atomic<bool> stopping{false};
  std::atomic<int> busy{0};  // requests being handled or written
};
}  // namespace detail

namespace {

bool is_disconnect(const beast::error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::operation_aborted || ec == net::error::not_connected ||
         ec == http::error::partial_message || ec == http::error::end_of_stream;
}

// Converts a response to HEAD into its headers: Content-Length stays, no body.
Response headers_only(Response&& response) {
  return std::visit(
      [](auto&& r) -> Response {
        const auto length = r.payload_size();
        EmptyResponse head{std::move(r.base())};
        if (length) head.content_length(*length);
        return head;
      },
      std::move(response));
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<detail::HttpShared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    beast::error_code ec;
    remote_ = stream_.socket().remote_endpoint(ec);
    local_ = stream_.socket().local_endpoint(ec);
    shared_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
    shared_->stats->connections_open.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() { shared_->stats->connections_open.fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  void reject(http::status status, std::string_view why) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), status, why = std::string(why)] {
      self->send_error(status, why);
    });
  }

 private:
  const HttpServerOptions& opts() const { return shared_->options; }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opts().header_limit));
    stream_.expires_after(opts().request_timeout);
    if (!opts().body_rule) {
      parser_->body_limit(opts().body_limit);
      http::async_read(stream_, buffer_, *parser_,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
      return;
    }
    // The limit is chosen once the header is known: none until then (Beast checks a
    // Content-Length against it while parsing the header), then the route's.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    const auto& message = parser_->get();
    const std::string_view target(message.target().data(), message.target().size());
    const std::optional<BodyRule> rule = opts().body_rule(message.method(), target);
    const std::size_t limit = rule ? rule->limit : opts().body_limit;
    if (const auto length = parser_->content_length(); length && *length > limit)
      return send_error(http::status::payload_too_large,
                        "request body of " + std::to_string(*length) + " bytes exceeds " + std::to_string(limit));
    if (parser_->is_done()) return on_read({});
    parser_->body_limit(limit);
    if (rule) stream_.expires_after(rule->timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec2, std::size_t) { self->on_read(ec2); });
  }

  void on_read(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      shared_->stats->timeouts.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("http: {}: request timed out, closing", remote_.address().to_string());
      return;  // the stream closed the socket
    }
    if (ec && is_disconnect(ec)) return close();
    if (ec == http::error::body_limit)
      return send_error(http::status::payload_too_large, "request body too large");
    if (ec == http::error::header_limit) {
      return send_error(http::status::request_header_fields_too_large, "request headers too large");
    }
    if (ec) return send_error(http::status::bad_request, "malformed request: " + ec.message());
    handle();
  }

  void handle() {
    shared_->busy.fetch_add(1);
    busy_ = true;
    shared_->stats->requests_total.fetch_add(1, std::memory_order_relaxed);
    const RequestMessage& message = parser_->get();
    const std::string_view target(message.target().data(), message.target().size());
    Response response;
    if (target.empty() || target.front() != '/') {
      response = error_response(http::status::bad_request, "request target must be an absolute path");
    } else {
      const std::size_t q = target.find('?');
      Request request{message, target.substr(0, q),
                      q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                      remote_.address(), local_.address()};
      try {
        response = shared_->dispatch(request);
      } catch (const std::exception& e) {
        spdlog::error("http: {} {}: handler failed: {}", std::string(message.method_string()),
                      std::string(target.substr(0, 200)), e.what());
        response = error_response(http::status::internal_server_error, "internal error");
      }
    }
    const unsigned code = static_cast<unsigned>(status_of(response));
    spdlog::debug("http: {} {} {} -> {}", remote_.address().to_string(), std::string(message.method_string()),
                  std::string(target.substr(0, 200)), code);
    const bool keep_alive = message.keep_alive() && !shared_->stopping.load();
    if (message.method() == http::verb::head) response = headers_only(std::move(response));
    send(std::move(response), keep_alive);
  }

  void send_error(http::status status, std::string_view why) {
    shared_->stats->rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("http: {}: {} ({})", remote_.address().to_string(), static_cast<unsigned>(status), why);
    send(error_response(status, why), false);
  }

  void send(Response response, bool keep_alive) {
    response_ = std::move(response);
    std::visit(
        [&](auto& r) {
          r.version(11);
          r.keep_alive(keep_alive);
          r.set(http::field::server, opts().server_name);
          const unsigned cls = static_cast<unsigned>(r.result_int()) / 100;
          if (cls < 6) shared_->stats->responses_by_class[cls].fetch_add(1, std::memory_order_relaxed);
          if (auto n = r.payload_size()) {
            shared_->stats->body_bytes_sent.fetch_add(*n, std::memory_order_relaxed);
          }
        },
        response_);
    stream_.expires_after(opts().write_timeout);
    std::visit(
        [&](auto& r) {
          http::async_write(stream_, r,
                            [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                              self->on_write(ec, keep_alive);
                            });
        },
        response_);
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    response_ = Response{};
    if (busy_) {
      busy_ = false;
      shared_->busy.fetch_sub(1);
    }
    if (ec) return close();
    if (!keep_alive) return linger_close();
    read();
  }

  // After an error response the client may still be sending (a huge body): stop
  // sending, drain what arrives for a moment, then close, so the client sees the
  // response instead of a reset.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(1));
    drain_buffer_.resize(16 * 1024);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > 1024 * 1024) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<detail::HttpShared> shared_;
  tcp::endpoint remote_;
  tcp::endpoint local_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  bool busy_ = false;
  std::vector<char> drain_buffer_;
  std::size_t drained_ = 0;
};

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, Dispatch dispatch)
    : options_(std::move(options)),
      acceptor_(boost::asio::make_strand(ioc_)),
      stats_(std::make_shared<HttpStats>()),
      shared_(std::make_shared<detail::HttpShared>()) {
  shared_->options = options_;
  shared_->dispatch = std::move(dispatch);
  shared_->stats = stats_;
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::listen() {
  if (listening_) return;
  const std::string where = "http: listen on " + options_.address + ":" + std::to_string(options_.port);
  beast::error_code ec;
  const auto address = net::ip::make_address(options_.address, ec);
  if (ec) throw error(Errc::kListen, where + ": bad address: " + ec.message());
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) throw error(Errc::kListen, where + ": " + ec.message());
  listening_ = true;
}

void HttpServer::start() {
  listen();
  started_ = true;
  accept();
  const int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
  spdlog::info("http: listening on {}:{}", endpoint_.address().to_string(), endpoint_.port());
}

void HttpServer::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), shared_);
      if (stats_->connections_open.load() > options_.max_connections) {
        session->reject(http::status::service_unavailable, "too many connections");
      } else {
        session->start();
      }
    } else {
      spdlog::warn("http: accept: {}", ec.message());
    }
    accept();
  });
}

void HttpServer::stop() {
  if (stopped_.exchange(true) || !started_) return;
  shared_->stopping = true;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  while (shared_->busy.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  spdlog::info("http: stopped");
}

}  // namespace ironstone::seeder

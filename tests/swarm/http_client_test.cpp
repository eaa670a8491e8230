// The HTTP client against a tiny real server on 127.0.0.1 (ephemeral port), and URL parsing.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "swarm/http_client.h"
#include "tests/testutil/test_http_server.h"

namespace ironstone::swarm {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::ironstone::testing::kClose;
using ::ironstone::testing::kHang;
using ::ironstone::testing::kWriteThenHang;
using ::ironstone::testing::response;
using ::ironstone::testing::TestServer;
using namespace std::chrono_literals;


// A port nobody listens on: bind an ephemeral port, then close it.
std::uint16_t closed_port() {
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

template <typename F>
std::string error_of(F&& f, Errc expected) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(expected)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return {};
}

TEST(Url, ParsesHostPortPathAndQuery) {
  EXPECT_EQ(parse_url("http://seeder.lan:8080/api/v1/releases?board=rpi5"),
            (Url{"seeder.lan", 8080, "/api/v1/releases?board=rpi5", false}));
  EXPECT_EQ(parse_url("http://10.0.0.2"), (Url{"10.0.0.2", 80, "/", false}));
  EXPECT_EQ(parse_url("HTTP://nas?x=1"), (Url{"nas", 80, "/?x=1", false}));
  Url v6 = parse_url("http://[fe80:0::1]:9000/m");
  EXPECT_EQ(v6, (Url{"fe80::1", 9000, "/m", true}));
  EXPECT_EQ(v6.host_header(), "[fe80::1]:9000");
  EXPECT_EQ(v6.text(), "http://[fe80::1]:9000/m");
  EXPECT_EQ(parse_url("http://nas/").host_header(), "nas");
}

TEST(Url, UnsupportedOrMalformedUrlsAreClearErrors) {
  auto bad = [](const std::string& text, const std::string& why) {
    std::string msg = error_of([&] { parse_url(text); }, Errc::kUrl);
    EXPECT_THAT(msg, HasSubstr("bad URL '" + text + "'"));
    EXPECT_THAT(msg, HasSubstr(why)) << text;
  };
  bad("https://seeder/", "only http:// is supported");
  bad("ftp://seeder/", "unsupported scheme 'ftp'");
  bad("seeder:8080/x", "missing scheme");
  bad("http://", "missing host");
  bad("http://:8080/", "missing host");
  bad("http://seeder:0/", "bad port '0'");
  bad("http://seeder:65536/", "bad port");
  bad("http://seeder:80x/", "bad port");
  bad("http://seeder:/", "empty port");
  bad("http://user:pw@seeder/", "user info");
  bad("http://[::1/", "unterminated IPv6");
  bad("http://[zz::1]/", "bad IPv6 literal");
  bad("http://[::1]x/", "unexpected text");
  bad("http://see der/", "space or control");
  bad("http://seeder/a#b", "fragments");
  bad("http://bad_host/", "bad host name 'bad_host'");
  bad("http://-lead.lan/", "bad host name");
  bad("http://999.1.1.1/", "bad IPv4 address");
}

TEST(HttpClient, GetReturnsStatusHeadersAndBody) {
  TestServer server([](const std::string&, int) { return response(200, "OK", "hello", "X-Thing: 42\r\n"); });
  HttpResponse r = http_get(server.url("/api/x?y=1"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("x-thing"), "42");
  EXPECT_FALSE(r.header("missing"));
  EXPECT_THAT(server.last_request(), HasSubstr("GET /api/x?y=1 HTTP/1.1\r\n"));
  EXPECT_THAT(server.last_request(), HasSubstr("Host: 127.0.0.1:"));
}

TEST(HttpClient, ErrorStatusIsReturnedNotThrownByPlainGet) {
  TestServer server([](const std::string&, int) { return response(500, "Internal Server Error", "boom"); });
  EXPECT_EQ(http_get(server.url("/")).status, 500u);
}

TEST(HttpClient, PostJsonSendsBodyAndContentType) {
  TestServer server([](const std::string&, int) { return response(201, "Created", "{}"); });
  RequestOptions o;
  o.headers = {{"X-Node", "aa:bb"}};
  HttpResponse r = http_post_json(server.url("/api/events"), R"({"step":"scan"})", o);
  EXPECT_EQ(r.status, 201u);
  std::string req = server.last_request();
  EXPECT_THAT(req, HasSubstr("POST /api/events HTTP/1.1\r\n"));
  EXPECT_THAT(req, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(req, HasSubstr("X-Node: aa:bb\r\n"));
  EXPECT_THAT(req, HasSubstr("\r\n\r\n{\"step\":\"scan\"}"));
}

TEST(HttpClient, BodyOverTheLimitIsRefusedFromContentLengthAlone) {
  // Announces 1 GiB but sends nothing: refused on the header, before any allocation.
  TestServer server([](const std::string&, int) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
  });
  RequestOptions o;
  o.max_body = 1024;
  auto msg = error_of([&] { http_get(server.url("/big"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/big") + ": response body of 1073741824 bytes (Content-Length) exceeds the limit of 1024 bytes");
}

TEST(HttpClient, ChunkedBodyOverTheLimitIsRefusedWhileReading) {
  TestServer server([](const std::string&, int) {
    std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) r += "200\r\n" + std::string(512, 'x') + "\r\n";
    return r + "0\r\n\r\n";
  });
  RequestOptions o;
  o.max_body = 1500;
  error_of([&] { http_get(server.url("/"), o); }, Errc::kTooLarge);
  o.max_body = 2048;
  EXPECT_EQ(http_get(server.url("/"), o).body.size(), 2048u);
}

// Peak resident set size of this process, bytes (VmHWM).
std::size_t peak_rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// Header and the first body bytes in one write, as ordinary servers send; the server then keeps the connection
// open. Beast 1.74 dropped its own body_limit error when body bytes followed the header in the same buffer.
std::string header_and_body_in_one_write(const std::string& content_length, std::size_t body_bytes) {
  return kWriteThenHang + "HTTP/1.1 200 OK\r\nContent-Length: " + content_length + "\r\n\r\n" +
         std::string(body_bytes, 'x');
}

TEST(HttpClient, GigabyteContentLengthWithBodyInTheSameWriteIsRefusedAtTheHeader) {
  for (const std::string length : {"1000000000", "10000000000000"}) {
    TestServer server([&](const std::string&, int) { return header_and_body_in_one_write(length, 64 * 1024); });
    RequestOptions o;
    o.max_body = 64 * 1024;
    o.timeout = 5s;
    const auto rss_before = peak_rss();
    auto msg = error_of([&] { http_get(server.url("/v1/channels/rpi5/stable.json"), o); }, Errc::kTooLarge);
    EXPECT_EQ(msg, "GET " + server.url("/v1/channels/rpi5/stable.json") + ": response body of " + length +
                       " bytes (Content-Length) exceeds the limit of 65536 bytes");
    EXPECT_LT(peak_rss(), rss_before + 32 * 1024 * 1024) << "Content-Length " << length;
  }
}

TEST(HttpClient, PointerOf200KilobytesWithBodyInTheSameWriteIsRefused) {
  TestServer server([](const std::string&, int) { return response(200, "OK", std::string(200 * 1024, '{')); });
  RequestOptions o;
  o.max_body = 64 * 1024;
  auto msg = error_of([&] { http_get(server.url("/p.json"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/p.json") +
                     ": response body of 204800 bytes (Content-Length) exceeds the limit of 65536 bytes");
  o.bulk_body = true;
  msg = error_of([&] { http_get(server.url("/p.json"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/p.json") +
                     ": response body of 204800 bytes (Content-Length) exceeds the limit of 65536 bytes");
}

TEST(HttpClient, ChunkedBodyOverTheLimitInOneWriteIsRefusedByCount) {
  // Many small chunks (each under the limit), header and all chunks in one write.
  TestServer server([](const std::string&, int) {
    std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 300; ++i) r += "400\r\n" + std::string(1024, 'x') + "\r\n";
    return r + "0\r\n\r\n";
  });
  RequestOptions o;
  o.max_body = 64 * 1024;
  auto msg = error_of([&] { http_get(server.url("/c"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/c") + ": response body exceeds the limit of 65536 bytes");
  o.max_body = 300 * 1024;
  EXPECT_EQ(http_get(server.url("/c"), o).body.size(), 300u * 1024);
}

TEST(HttpClient, HugeChunkSizeIsRefusedBeforeItsBytes) {
  TestServer server([](const std::string&, int) {
    return kWriteThenHang + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nE8D4A51000\r\n" +
           std::string(4096, 'x');
  });
  RequestOptions o;
  o.max_body = 64 * 1024;
  o.timeout = 5s;
  auto msg = error_of([&] { http_get(server.url("/c"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/c") + ": response body exceeds the limit of 65536 bytes");
}

TEST(HttpClient, CloseDelimitedBodyOverTheLimitIsRefusedByCount) {
  TestServer server([](const std::string&, int) {
    return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(100 * 1024, 'x');
  });
  RequestOptions o;
  o.max_body = 64 * 1024;
  auto msg = error_of([&] { http_get(server.url("/e"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/e") + ": response body exceeds the limit of 65536 bytes");
}

TEST(HttpClient, BulkBodyArrivesWholeAndIntact) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) >> 3);
  TestServer server([&](const std::string&, int) { return response(200, "OK", big); });
  RequestOptions o;
  o.bulk_body = true;
  o.max_body = big.size();
  HttpResponse r = http_get(server.url("/chunks/x"), o);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_TRUE(r.body == big);
}

TEST(HttpClient, BulkBodyOverTheLimitIsRefusedFromContentLengthAlone) {
  TestServer server([](const std::string&, int) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
  });
  RequestOptions o;
  o.bulk_body = true;
  o.max_body = 1024;
  auto msg = error_of([&] { http_get(server.url("/big"), o); }, Errc::kTooLarge);
  EXPECT_EQ(msg, "GET " + server.url("/big") + ": response body of 1073741824 bytes (Content-Length) exceeds the limit of 1024 bytes");
}

TEST(HttpClient, BulkBodyCutShortSaysHowMuchArrived) {
  TestServer server([](const std::string&, int) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  });
  RequestOptions o;
  o.bulk_body = true;
  auto msg = error_of([&] { http_get(server.url("/short"), o); }, Errc::kProtocol);
  EXPECT_EQ(msg, "GET " + server.url("/short") + ": connection closed after 10 of 100 body bytes");
}

TEST(HttpClient, BulkBodyWithoutContentLengthUsesTheUsualReader) {
  TestServer server([](const std::string&, int) {
    return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  });
  RequestOptions o;
  o.bulk_body = true;
  EXPECT_EQ(http_get(server.url("/"), o).body, "hello");
}

TEST(HttpClient, ServerThatNeverAnswersTimesOut) {
  TestServer server([](const std::string&, int) { return kHang; });
  RequestOptions o;
  o.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto msg = error_of([&] { http_get(server.url("/slow"), o); }, Errc::kTimeout);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(msg, "GET " + server.url("/slow") + ": timed out after 300 ms (during read)");
}

TEST(HttpClient, RefusedConnectionNamesUrlAndErrno) {
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  auto msg = error_of([&] { http_get(url); }, Errc::kConnect);
  EXPECT_THAT(msg, HasSubstr("GET " + url + ": connect to 127.0.0.1:"));
  EXPECT_THAT(msg, HasSubstr("refused"));
}

TEST(HttpClient, ServerClosingWithoutAnswerIsAConnectionError) {
  TestServer server([](const std::string&, int) { return kClose; });
  error_of([&] { http_get(server.url("/")); }, Errc::kConnect);
}

TEST(HttpClient, GarbageResponseIsAProtocolError) {
  TestServer server([](const std::string&, int) { return std::string("SMTP ready\r\n\r\n"); });
  error_of([&] { http_get(server.url("/")); }, Errc::kProtocol);
}

TEST(GetWithRetry, ServerErrorsAreRetriedUntilSuccess) {
  TestServer server([](const std::string&, int n) {
    return n < 3 ? response(503, "Service Unavailable", "busy") : response(200, "OK", "manifest");
  });
  HttpResponse r = get_with_retry(server.url("/m"), 5, 1ms, 5ms);
  EXPECT_EQ(r.body, "manifest");
  EXPECT_EQ(server.requests(), 3);
}

TEST(GetWithRetry, RetriesThenFailsNamingUrlAttemptsAndLastError) {
  TestServer server([](const std::string&, int) { return response(503, "Service Unavailable", "busy\nmore"); });
  auto msg = error_of([&] { get_with_retry(server.url("/m"), 3, 1ms, 5ms); }, Errc::kServerError);
  EXPECT_EQ(msg, "GET " + server.url("/m") + ": failed after 3 attempts; last error: HTTP 503 Service Unavailable: busy");
  EXPECT_EQ(server.requests(), 3);
}

TEST(GetWithRetry, NotFoundIsNotRetried) {
  TestServer server([](const std::string&, int) { return response(404, "Not Found", "no release for board 'x'"); });
  auto msg = error_of([&] { get_with_retry(server.url("/m"), 5, 1ms, 5ms); }, Errc::kHttpStatus);
  EXPECT_EQ(msg, "GET " + server.url("/m") + ": HTTP 404 Not Found: no release for board 'x'");
  EXPECT_EQ(server.requests(), 1);
}

TEST(GetWithRetry, RefusedConnectionsAreRetriedThenReported) {
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/m";
  auto msg = error_of([&] { get_with_retry(url, 3, 1ms, 5ms); }, Errc::kConnect);
  EXPECT_THAT(msg, HasSubstr("GET " + url + ": failed after 3 attempts; last error: connect to 127.0.0.1:"));
}

TEST(GetWithRetry, BackoffDoublesUpToTheMaximum) {
  TestServer server([](const std::string&, int) { return response(500, "Internal Server Error", ""); });
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(get_with_retry(server.url("/"), 4, 40ms, 70ms), Error);  // sleeps 40 + 70 + 70
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 180ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(server.requests(), 4);
}

TEST(GetWithRetry, TimeoutsAreRetried) {
  TestServer server([](const std::string&, int n) { return n == 1 ? kHang : response(200, "OK", "late"); });
  RequestOptions o;
  o.timeout = 200ms;
  EXPECT_EQ(get_with_retry(server.url("/"), 2, 1ms, 1ms, o).body, "late");
  EXPECT_EQ(server.requests(), 2);
}

TEST(GetWithRetry, BadUrlIsNotRetried) {
  error_of([] { get_with_retry("https://seeder/", 3, 1ms, 1ms); }, Errc::kUrl);
}

}  // namespace
}  // namespace ironstone::swarm

// What the seeder's HTTP handlers see and return.
//
// A handler gets a Request (the parsed message plus the split target and the peer's
// address) and returns a Response: a string body, an empty body or a file range.
// The server (http_server.h) sets version, keep-alive and Server header, and turns
// any response to HEAD into headers only, so handlers need not handle HEAD.
//
// Thread safety: plain values; a Request refers to data owned by its connection and
// is valid only during the handler call.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "seeder/range_file_body.h"

namespace ironstone::seeder {

namespace http = boost::beast::http;

using RequestMessage = http::request<http::string_body>;
using StringResponse = http::response<http::string_body>;
using EmptyResponse = http::response<http::empty_body>;
using FileResponse = http::response<RangeFileBody>;
using Response = std::variant<StringResponse, EmptyResponse, FileResponse>;

struct Request {
  const RequestMessage& message;
  std::string_view path;            // target up to '?', still percent-encoded; starts with '/'
  std::string_view query;           // after '?', raw; empty when none
  boost::asio::ip::address remote;  // the client's address
  boost::asio::ip::address local;   // the server's address on this connection

  http::verb method() const { return message.method(); }
};

// A response with a body and content type ("text/plain; charset=utf-8" by default).
Response make_response(http::status status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
// {"error": message} as application/json; `message` says what was wrong and where.
Response error_response(http::status status, std::string_view message);
// JSON document (already serialized) with status 200 unless given.
Response json_response(std::string body, http::status status = http::status::ok);

// Status code of a response of any kind.
http::status status_of(const Response& response);

}  // namespace ironstone::seeder

#include "seeder/file_response.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <fstream>

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

// The request's Range against `size` bytes: sets `range` and `status` (200 or 206), or
// returns the 416 response to send.
std::optional<Response> select_range(const Request& request, std::uint64_t size, ByteRange& range,
                                     http::status& status) {
  const auto it = request.message.find(http::field::range);
  if (it == request.message.end()) return std::nullopt;
  switch (parse_range(std::string_view(it->value().data(), it->value().size()), size, range)) {
    case RangeResult::kNone:
      range = {0, size};
      return std::nullopt;
    case RangeResult::kSatisfiable:
      status = http::status::partial_content;
      return std::nullopt;
    case RangeResult::kUnsatisfiable:
      break;
  }
  Response res = error_response(http::status::range_not_satisfiable, "range not satisfiable");
  auto& r = std::get<StringResponse>(res);
  r.set(http::field::content_range, "bytes */" + std::to_string(size));
  r.set(http::field::accept_ranges, "bytes");
  return res;
}

template <class Message>
void set_range_headers(Message& res, std::string_view content_type, http::status status, const ByteRange& range,
                       std::uint64_t size) {
  res.set(http::field::content_type, std::string(content_type));
  res.set(http::field::accept_ranges, "bytes");
  if (status == http::status::partial_content)
    res.set(http::field::content_range, "bytes " + std::to_string(range.offset) + "-" +
                                            std::to_string(range.offset + range.length - 1) + "/" +
                                            std::to_string(size));
}

}  // namespace

RangeResult parse_range(std::string_view header, std::uint64_t size, ByteRange& out) {
  header = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (!header.starts_with(kUnit)) return RangeResult::kNone;
  std::string_view spec = trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return RangeResult::kNone;  // multi-range: send it all
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::kNone;
  const std::string_view first = trim(spec.substr(0, dash));
  const std::string_view last = trim(spec.substr(dash + 1));
  if (first.empty()) {  // suffix range "-N": the last N bytes
    auto n = parse_u64(last);
    if (!n) return RangeResult::kNone;
    if (*n == 0 || size == 0) return RangeResult::kUnsatisfiable;
    out.length = std::min(*n, size);
    out.offset = size - out.length;
    return RangeResult::kSatisfiable;
  }
  auto a = parse_u64(first);
  if (!a) return RangeResult::kNone;
  std::uint64_t b = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto parsed = parse_u64(last);
    if (!parsed || *parsed < *a) return RangeResult::kNone;
    b = std::min(*parsed, b);
  }
  if (*a >= size) return RangeResult::kUnsatisfiable;
  out.offset = *a;
  out.length = b - *a + 1;
  return RangeResult::kSatisfiable;
}

Response serve_file(const Request& request, const fs::path& root, const fs::path& relative,
                    std::string_view content_type) {
  std::error_code ec;
  const fs::path resolved = fs::canonical(root / relative, ec);
  if (ec || !inside(root, resolved)) return error_response(http::status::not_found, "no such file");
  if (!fs::is_regular_file(resolved, ec)) return error_response(http::status::not_found, "no such file");

  boost::beast::error_code bec;
  RangeFileBody::value_type body;
  body.file.open(resolved.c_str(), boost::beast::file_mode::scan, bec);
  if (bec) {
    spdlog::warn("http: open {}: {}", resolved.string(), bec.message());
    return error_response(http::status::not_found, "no such file");
  }
  const std::uint64_t size = body.file.size(bec);
  if (bec) {
    spdlog::warn("http: size of {}: {}", resolved.string(), bec.message());
    return error_response(http::status::internal_server_error, "cannot read file");
  }

  ByteRange range{0, size};
  http::status status = http::status::ok;
  if (auto refused = select_range(request, size, range, status)) return std::move(*refused);

  body.offset = range.offset;
  body.length = range.length;
  FileResponse res{status, 11};
  set_range_headers(res, content_type, status, range, size);
  res.body() = std::move(body);
  res.content_length(range.length);
  return res;
}

std::optional<std::string> read_store_file(const fs::path& root, const fs::path& relative, std::uint64_t max_bytes) {
  std::error_code ec;
  const fs::path resolved = fs::canonical(root / relative, ec);
  if (ec || !inside(root, resolved) || !fs::is_regular_file(resolved, ec)) return std::nullopt;
  std::ifstream in(resolved, std::ios::binary);
  std::string bytes;
  const auto size = fs::file_size(resolved, ec);
  if (!in || ec || size > max_bytes) return std::nullopt;
  bytes.resize(size);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)) || in.peek() != EOF) return std::nullopt;
  return bytes;
}

Response serve_bytes(const Request& request, std::string bytes, std::string_view content_type) {
  const std::uint64_t size = bytes.size();
  ByteRange range{0, size};
  http::status status = http::status::ok;
  if (auto refused = select_range(request, size, range, status)) return std::move(*refused);
  StringResponse res{status, 11};
  set_range_headers(res, content_type, status, range, size);
  if (range.offset != 0 || range.length != size) bytes = bytes.substr(range.offset, range.length);
  res.body() = std::move(bytes);
  res.content_length(range.length);
  return res;
}

}  // namespace ironstone::seeder

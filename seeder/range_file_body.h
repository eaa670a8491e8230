// A Beast body that sends one byte range [offset, offset + length) of an open file:
// the body of 200 and 206 responses of the store's file routes. beast's own
// file_body always sends the whole file.
//
// Thread safety: a value is owned by one response, used by one connection at a time.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <optional>
#include <utility>

namespace ironstone::seeder {

struct RangeFileBody {
  struct value_type {
    boost::beast::file file;  // open for reading
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };

  static std::uint64_t size(const value_type& body) { return body.length; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(boost::beast::error_code& ec) {
      remain_ = body_.length;
      body_.file.seek(body_.offset, ec);
    }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      const auto amount = static_cast<std::size_t>(std::min<std::uint64_t>(remain_, buf_.size()));
      if (amount == 0) {
        ec = {};
        return boost::none;
      }
      const std::size_t n = body_.file.read(buf_.data(), amount, ec);
      if (ec) return boost::none;
      if (n == 0) {  // the file shrank under us: fail rather than send a short body
        ec = boost::beast::http::error::short_read;
        return boost::none;
      }
      remain_ -= n;
      return {{const_buffers_type(buf_.data(), n), remain_ > 0}};
    }

   private:
    value_type& body_;
    std::uint64_t remain_ = 0;
    std::array<char, 64 * 1024> buf_;
  };
};

}  // namespace ironstone::seeder

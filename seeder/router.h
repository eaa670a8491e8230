// Route table of the seeder's HTTP API: method(s) + path pattern -> handler.
//
// A pattern is a sequence of '/'-separated segments. A segment is a literal
// ("v1", "manifest.json") or one parameter with an optional literal prefix and
// suffix: "{board}", "{hex}.zst", "{channel}.json.minisig". Each parameter name must
// be defined with define_param() and its validator decides what a segment may hold;
// nothing else ever reaches a handler. Request path segments are percent-decoded
// one by one before matching; a decoded segment containing '/' or NUL, an empty
// segment ("//") or a malformed escape is a 400.
//
// Dispatch: the first route whose pattern and method match is called with the
// captured values in pattern order. A GET route also answers HEAD. A path that
// matches only routes of other methods gets 405 with Allow; no match is 404.
//
// Thread safety: build the table first (add/define_param), then dispatch() from any
// number of threads concurrently; handlers must be thread-safe themselves.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "seeder/http_types.h"

namespace ironstone::seeder {

using Params = std::vector<std::string>;
using Handler = std::function<Response(const Request&, const Params&)>;
using Validator = std::function<bool(std::string_view)>;

class Router {
 public:
  void define_param(const std::string& name, Validator validator);

  // Throws Error(kConfig) for a malformed pattern or an undefined parameter.
  void add(std::initializer_list<http::verb> methods, std::string_view pattern, Handler handler);

  Response dispatch(const Request& request) const;

  std::size_t size() const { return routes_.size(); }

 private:
  struct Segment {
    std::string prefix;  // the literal, when param is empty
    std::string param;   // empty for a literal segment
    std::string suffix;
  };
  struct Route {
    std::vector<http::verb> methods;
    std::vector<Segment> segments;
    std::string pattern;
    Handler handler;
  };

  bool match(const Route& route, const std::vector<std::string>& segments, Params& params) const;

  std::map<std::string, Validator, std::less<>> validators_;
  std::vector<Route> routes_;
};

}  // namespace ironstone::seeder

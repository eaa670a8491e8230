#include "seeder/router.h"

#include <algorithm>

#include "seeder/errc.h"
#include "seeder/query.h"

namespace ironstone::seeder {
namespace {

// Splits "/a/b/c" into decoded segments. false on "//", a malformed escape, or a
// decoded segment holding '/' or NUL. "/" alone gives one empty segment.
bool split_path(std::string_view path, std::vector<std::string>& out) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (path.empty()) {
    out.emplace_back();
    return true;
  }
  while (true) {
    const std::size_t slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    if (raw.empty()) return false;
    auto decoded = percent_decode(raw, false);
    if (!decoded || decoded->find('/') != std::string::npos || decoded->find('\0') != std::string::npos) {
      return false;
    }
    out.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

std::string allow_header(const std::vector<http::verb>& methods) {
  std::string out;
  for (http::verb m : methods) {
    if (!out.empty()) out += ", ";
    out += std::string(http::to_string(m));
  }
  return out;
}

}  // namespace

void Router::define_param(const std::string& name, Validator validator) {
  validators_[name] = std::move(validator);
}

void Router::add(std::initializer_list<http::verb> methods, std::string_view pattern, Handler handler) {
  Route route{methods, {}, std::string(pattern), std::move(handler)};
  if (pattern.empty() || pattern.front() != '/') {
    throw error(Errc::kConfig, "router: pattern '" + route.pattern + "' does not start with '/'");
  }
  std::string_view rest = pattern.substr(1);
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    Segment seg;
    const std::size_t open = text.find('{');
    if (open == std::string_view::npos) {
      seg.prefix = std::string(text);
    } else {
      const std::size_t close = text.find('}', open);
      if (close == std::string_view::npos) {
        throw error(Errc::kConfig, "router: pattern '" + route.pattern + "': unclosed '{'");
      }
      seg.prefix = std::string(text.substr(0, open));
      seg.param = std::string(text.substr(open + 1, close - open - 1));
      seg.suffix = std::string(text.substr(close + 1));
      if (!validators_.contains(seg.param)) {
        throw error(Errc::kConfig,
                    "router: pattern '" + route.pattern + "': parameter '" + seg.param + "' is not defined");
      }
    }
    route.segments.push_back(std::move(seg));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (std::find(route.methods.begin(), route.methods.end(), http::verb::get) != route.methods.end() &&
      std::find(route.methods.begin(), route.methods.end(), http::verb::head) == route.methods.end()) {
    route.methods.push_back(http::verb::head);
  }
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string>& segments, Params& params) const {
  if (route.segments.size() != segments.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Segment& seg = route.segments[i];
    const std::string& s = segments[i];
    if (seg.param.empty()) {
      if (s != seg.prefix) return false;
      continue;
    }
    if (s.size() < seg.prefix.size() + seg.suffix.size() || !s.starts_with(seg.prefix) ||
        !s.ends_with(seg.suffix)) {
      return false;
    }
    std::string value = s.substr(seg.prefix.size(), s.size() - seg.prefix.size() - seg.suffix.size());
    if (!validators_.find(seg.param)->second(value)) return false;
    params.push_back(std::move(value));
  }
  return true;
}

Response Router::dispatch(const Request& request) const {
  std::vector<std::string> segments;
  if (!split_path(request.path, segments)) {
    return error_response(http::status::bad_request, "malformed path");
  }
  Params params;
  std::vector<http::verb> allowed;
  for (const Route& route : routes_) {
    if (!match(route, segments, params)) continue;
    if (std::find(route.methods.begin(), route.methods.end(), request.method()) != route.methods.end()) {
      return route.handler(request, params);
    }
    allowed.insert(allowed.end(), route.methods.begin(), route.methods.end());
  }
  if (!allowed.empty()) {
    Response res = error_response(http::status::method_not_allowed,
                                  std::string(request.message.method_string()) + " not allowed here");
    std::get<StringResponse>(res).set(http::field::allow, allow_header(allowed));
    return res;
  }
  return error_response(http::status::not_found, "no such resource");
}

}  // namespace ironstone::seeder

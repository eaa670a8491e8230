// The upload routes: HTTP in front of UploadService (seeder/upload.h); see seeder/routes.h.
#include <spdlog/spdlog.h>

#include "api/limits.h"
#include "api/paths.h"
#include "seeder/errc.h"
#include "seeder/routes.h"
#include "util/file.h"

namespace ironstone::seeder {

http::status status_for(const std::error_code& code) {
  if (code == Errc::kBadRequest) return http::status::bad_request;
  if (code == Errc::kUnauthorized) return http::status::unauthorized;
  if (code == Errc::kRefused) return http::status::forbidden;
  if (code == Errc::kNotFound) return http::status::not_found;
  if (code == Errc::kConflict) return http::status::conflict;
  if (code == Errc::kTooLarge) return http::status::payload_too_large;
  if (code == Errc::kBusy) return http::status::service_unavailable;
  return http::status::internal_server_error;
}

namespace {

// Constant time in the token's bytes (its length is not secret).
bool same_token(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

void check_bearer_token(const Request& r, const std::string& token, std::string_view what) {
  if (token.empty()) return;
  const auto it = r.message.find(http::field::authorization);
  if (it == r.message.end())
    throw error(Errc::kUnauthorized,
                "this seeder asks for an " + std::string(what) + " token: send 'Authorization: Bearer <token>'");
  const std::string_view value(it->value().data(), it->value().size());
  if (!value.starts_with("Bearer ") || !same_token(value.substr(7), token))
    throw error(Errc::kUnauthorized, "wrong " + std::string(what) + " token");
}

namespace {

// Runs one upload request: token first, then the handler; an Error becomes its status.
template <typename F>
Response guarded(const Request& r, const UploadContext& c, F&& handler) {
  try {
    check_bearer_token(r, c.token, "upload");
    return handler();
  } catch (const Error& e) {
    const http::status status = status_for(e.code());
    spdlog::warn("push: {} {} from {}: {} ({})", std::string(r.message.method_string()), std::string(r.path),
                 r.remote.to_string(), static_cast<unsigned>(status), e.what());
    return error_response(status, e.what());
  }
}

Response status_response(const api::PushStatus& s) { return json_response(api::serialize_push_status(s)); }

}  // namespace

void add_upload_routes(Router& router, UploadContext context) {
  using V = http::verb;
  if (!context.uploads) return;
  auto c = std::make_shared<UploadContext>(std::move(context));
  router.add({V::post}, api::kUploadsPath, [c](const Request& r, const Params&) {
    return guarded(r, *c, [&] { return status_response(c->uploads->begin(r.message.body())); });
  });
  router.add({V::get, V::delete_}, api::route::kUpload, [c](const Request& r, const Params& p) {
    return guarded(r, *c, [&] {
      if (r.method() == V::get) return status_response(c->uploads->status(p[0], p[1]));
      c->uploads->abort(p[0], p[1]);
      return make_response(http::status::no_content, "");
    });
  });
  router.add({V::put}, api::route::kUploadChunk, [c](const Request& r, const Params& p) {
    return guarded(r, *c, [&] {
      c->uploads->put_chunk(p[0], p[1], p[2], r.message.body());
      return make_response(http::status::no_content, "");
    });
  });
  router.add({V::put}, api::route::kUploadFirmware, [c](const Request& r, const Params& p) {
    return guarded(r, *c, [&] {
      c->uploads->put_firmware(p[0], p[1], p[2], r.message.body());
      return make_response(http::status::no_content, "");
    });
  });
  router.add({V::put}, api::route::kUploadFile, [c](const Request& r, const Params& p) {
    return guarded(r, *c, [&] {
      c->uploads->put_file(p[0], p[1], p[2], r.message.body());
      return make_response(http::status::no_content, "");
    });
  });
  router.add({V::post}, api::route::kUploadCommit, [c](const Request& r, const Params& p) {
    return guarded(r, *c, [&] { return status_response(c->uploads->commit(p[0], p[1])); });
  });
}

std::string read_upload_token(const std::filesystem::path& file) { return read_token_file(file, "--upload-token-file"); }

std::string read_token_file(const std::filesystem::path& file, std::string_view flag) {
  const std::string where = std::string(flag) + " " + file.string();
  std::string why;
  auto text = util::read_small_file(file, api::kMaxUploadTokenBytes + 2, &why);
  if (!text) throw error(Errc::kConfig, where + ": " + why);
  std::string token = text->substr(0, text->find('\n'));
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r')) token.pop_back();
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.erase(0, 1);
  if (token.size() < 16 || token.size() > api::kMaxUploadTokenBytes)
    throw error(Errc::kConfig, where + ": the token must be 16 to " +
                                   std::to_string(api::kMaxUploadTokenBytes) + " bytes on its first line");
  for (char ch : token) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f)
      throw error(Errc::kConfig, where + ": the token must be printable ASCII");
  }
  return token;
}

std::optional<BodyRule> upload_body_rule(http::verb method, std::string_view target, std::chrono::milliseconds timeout) {
  if (!target.starts_with(api::kUploadsPath)) return std::nullopt;
  if (method == http::verb::post && target == api::kUploadsPath) return BodyRule{api::kMaxPushBundleBytes, timeout};
  if (method != http::verb::put) return std::nullopt;
  if (target.find("/chunks/") != std::string_view::npos) return BodyRule{api::kMaxPushChunkBytes, timeout};
  if (target.find("/firmware/") != std::string_view::npos) return BodyRule{api::kMaxPushFirmwareBytes, timeout};
  if (target.find("/files/") != std::string_view::npos) return BodyRule{api::kMaxPushFileBytes, timeout};
  return std::nullopt;
}

}  // namespace ironstone::seeder

// Small parsers of the seeder: Range, percent-decoding, listen endpoints, routes.
#include <gtest/gtest.h>

#include "seeder/config.h"
#include "seeder/errc.h"
#include "seeder/file_response.h"
#include "seeder/query.h"
#include "seeder/router.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::seeder {
namespace {

TEST(RangeHeader, ParsesSingleRangesAgainstTheFileSize) {
  ByteRange r;
  EXPECT_EQ(parse_range("bytes=0-9", 100, r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 10u);
  EXPECT_EQ(parse_range("bytes=90-", 100, r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.length, 10u);
  EXPECT_EQ(parse_range("bytes=-5", 100, r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 95u);
  EXPECT_EQ(parse_range("bytes=-500", 100, r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(parse_range("bytes=50-5000", 100, r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.length, 50u);
  EXPECT_EQ(parse_range("bytes=100-", 100, r), RangeResult::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100, r), RangeResult::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-0", 0, r), RangeResult::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=5-1", 100, r), RangeResult::kNone);
  EXPECT_EQ(parse_range("bytes=a-b", 100, r), RangeResult::kNone);
  EXPECT_EQ(parse_range("bytes=1-2,3-4", 100, r), RangeResult::kNone);
  EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 100, r), RangeResult::kNone);
  EXPECT_EQ(parse_range("items=1-2", 100, r), RangeResult::kNone);
}

TEST(PercentDecoding, DecodesEscapesAndRejectsMalformedOnes) {
  EXPECT_EQ(percent_decode("a%2Fb%2e", false), "a/b.");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%zz", false));
  auto q = parse_query("a=1&&b=%41&c");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->size(), 3u);
  EXPECT_EQ(find_param(*q, "b"), "A");
  EXPECT_EQ(find_param(*q, "c"), "");
  EXPECT_FALSE(find_param(*q, "d"));
  EXPECT_FALSE(parse_query(std::string(100, '&') + "a=1&b=2", 1));
}

TEST(ListenEndpoint, AcceptsAddressPortForms) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:9000", 8080, "--listen").port, 9000);
  EXPECT_EQ(parse_endpoint("127.0.0.1", 8080, "--listen").port, 8080);
  EXPECT_EQ(parse_endpoint(":9000", 8080, "--listen").address, "0.0.0.0");
  EXPECT_EQ(parse_endpoint("[::1]:9000", 8080, "--listen").address, "::1");
  try {
    parse_endpoint("nas.lan:80", 8080, "--listen");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kConfig);
    EXPECT_STREQ(e.what(), "--listen 'nas.lan:80': not an IP address");
  }
  EXPECT_ERROR_HAS(parse_endpoint("1.2.3.4:99999", 1, "--listen"), Errc::kConfig, "--listen '1.2.3.4:99999'");
  EXPECT_ERROR_HAS(parse_endpoint("::1:80", 1, "--listen"), Errc::kConfig, "--listen '::1:80'");
  EXPECT_ERROR_HAS(parse_endpoint("1.2.3.4:", 1, "--listen"), Errc::kConfig, "--listen '1.2.3.4:'");
}

TEST(BaseUrl, DerivesFromListenAddressOrUsesPublicUrl) {
  SeederConfig c;
  EXPECT_EQ(base_url(c, 8080), "http://127.0.0.1:8080/");
  c.http.address = "10.1.2.3";
  EXPECT_EQ(base_url(c, 8080), "http://10.1.2.3:8080/");
  c.public_url = "http://nas.lan:8080";
  EXPECT_EQ(base_url(c, 8080), "http://nas.lan:8080/");
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.define_param("word", [](std::string_view s) { return !s.empty() && s.find('.') == s.npos; });
    router_.add({http::verb::get}, "/a/{word}.json", [](const Request&, const Params& p) {
      return make_response(http::status::ok, "json:" + p[0]);
    });
    router_.add({http::verb::get}, "/a/{word}.json.sig", [](const Request&, const Params& p) {
      return make_response(http::status::ok, "sig:" + p[0]);
    });
    router_.add({http::verb::post}, "/b/{word}", [](const Request&, const Params& p) {
      return make_response(http::status::ok, "post:" + p[0]);
    });
  }
  std::pair<int, std::string> call(http::verb method, const std::string& target) {
    RequestMessage msg{method, target, 11};
    Request req{msg, target, {}, {}, {}};
    Response res = router_.dispatch(req);
    auto& s = std::get<StringResponse>(res);
    return {s.result_int(), s.body()};
  }
  Router router_;
};

TEST_F(RouterTest, MatchesPatternsWithPrefixAndSuffix) {
  EXPECT_EQ(call(http::verb::get, "/a/x.json"), std::make_pair(200, std::string("json:x")));
  EXPECT_EQ(call(http::verb::get, "/a/x.json.sig"), std::make_pair(200, std::string("sig:x")));
  EXPECT_EQ(call(http::verb::get, "/a/%78.json").second, "json:x");
  EXPECT_EQ(call(http::verb::head, "/a/x.json").first, 200);
  EXPECT_EQ(call(http::verb::post, "/b/y").second, "post:y");
}

TEST_F(RouterTest, RejectsWhatTheValidatorsDoNotAllow) {
  EXPECT_EQ(call(http::verb::get, "/a/.json").first, 404);     // empty parameter
  EXPECT_EQ(call(http::verb::get, "/a/x.y.json").first, 404);  // validator refuses '.'
  EXPECT_EQ(call(http::verb::get, "/a/x.json/").first, 400);   // empty segment
  EXPECT_EQ(call(http::verb::get, "/a//x.json").first, 400);
  EXPECT_EQ(call(http::verb::get, "/a/x%2Fy.json").first, 400);  // encoded '/'
  EXPECT_EQ(call(http::verb::get, "/a/x%00.json").first, 400);
  EXPECT_EQ(call(http::verb::get, "/b/y").first, 405);
  EXPECT_EQ(call(http::verb::get, "/c").first, 404);
}

TEST_F(RouterTest, RefusesPatternsWithUndefinedParameters) {
  EXPECT_THROW(router_.add({http::verb::get}, "/x/{nope}", {}), Error);
  EXPECT_THROW(router_.add({http::verb::get}, "x", {}), Error);
}

}  // namespace
}  // namespace ironstone::seeder

// The OTLP protobuf encoding (docs/tracing.md "The exporter"), byte by byte for a small request.
// That the official definitions decode whole exports of the service (every field the spans
// carry) is checked end to end: tests/e2e/tracing_test.cpp, span_tree_test.cpp.
#include "kit/otlp/otlp_proto.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kit/otlp/encode.hpp"

namespace {

using namespace kit::otlp;
using namespace kit::trace;

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

TEST(OtlpProto, WritesTheWireFormatOfAnExportRequest) {
  SpanData s;
  s.trace_id = "0102030405060708090a0b0c0d0e0f10";
  s.span_id = "a1a2a3a4a5a6a7a8";
  s.name = "GET";
  s.kind = SpanKind::server;
  s.start_unix_nano = 1;
  s.end_unix_nano = 0x0102;
  s.attributes = {{"k", std::int64_t{-1}}};
  const std::vector<Attribute> resource{{"n", std::string("u")}};
  const std::vector<SpanData> spans{s};
  const std::string out = encode(Encoding::protobuf, resource, Scope{"s", ""}, spans);

  const std::string kv_resource = bytes({0x0a, 1, 'n', 0x12, 3, 0x0a, 1, 'u'});
  const std::string resource_msg = bytes({0x0a, 8}) + kv_resource;  // Resource.attributes
  const std::string scope_msg = bytes({0x0a, 1, 's'});              // the empty version omitted
  // int64 -1: ten bytes of two's complement varint.
  const std::string any_value =
      bytes({0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  const std::string kv_span = bytes({0x0a, 1, 'k', 0x12, 11}) + any_value;
  std::string span = bytes({0x0a, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  span += bytes({0x12, 8, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8});
  span += bytes({0x2a, 3, 'G', 'E', 'T'});        // name
  span += bytes({0x30, 2});                       // kind SERVER
  span += bytes({0x39, 1, 0, 0, 0, 0, 0, 0, 0});  // start, fixed64 little endian
  span += bytes({0x41, 2, 1, 0, 0, 0, 0, 0, 0});  // end
  span += bytes({0x4a, 16}) + kv_span;            // attributes
  span += bytes({0x7a, 0});                       // status, unset: empty
  const std::string scope_spans = bytes({0x0a, 3}) + scope_msg + bytes({0x12, 73}) + span;
  const std::string resource_spans =
      bytes({0x0a, 10}) + resource_msg + bytes({0x12, 80}) + scope_spans;
  const std::string expected = bytes({0x0a, 94}) + resource_spans;
  ASSERT_EQ(span.size(), 73U);
  EXPECT_EQ(out, expected);
}

TEST(OtlpProto, AnErrorStatusCarriesItsCodeAndMessage) {
  SpanData s;
  s.trace_id = "0102030405060708090a0b0c0d0e0f10";
  s.span_id = "a1a2a3a4a5a6a7a8";
  s.status = StatusCode::error;
  s.status_message = "x";
  const std::vector<SpanData> spans{s};
  const std::string out = encode(Encoding::protobuf, {}, Scope{}, spans);
  // Status { message = "x" (field 2), code = ERROR (field 3) } at the end of the span.
  EXPECT_TRUE(out.ends_with(bytes({0x7a, 5, 0x12, 1, 'x', 0x18, 2}))) << out.size();
}

TEST(OtlpProto, IsFarSmallerThanTheJsonOfTheSameSpans) {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "00f067aa0ba902b7";
  s.parent_span_id = "b7ad6b7169203331";
  s.name = "GET /api/v1/users/me";
  s.kind = SpanKind::server;
  s.start_unix_nano = 1'765'000'000'123'456'789ULL;
  s.end_unix_nano = 1'765'000'000'124'000'000ULL;
  s.attributes = {{"http.request.method", std::string("GET")},
                  {"url.path", std::string("/api/v1/users/me")},
                  {"http.route", std::string("/api/v1/users/me")},
                  {"http.response.status_code", std::int64_t{200}},
                  {"client.address", std::string("127.0.0.1")}};
  const std::vector<SpanData> spans(100, s);
  const std::size_t proto =
      encode(Encoding::protobuf, {}, Scope{"user-service", "0.1.0"}, spans).size();
  const std::size_t json = encode(Encoding::json, {}, Scope{"user-service", "0.1.0"}, spans).size();
  EXPECT_LT(proto * 2, json) << "protobuf " << proto << " bytes, JSON " << json;
}

}  // namespace

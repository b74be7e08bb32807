// Root spans of work outside a request (docs/tracing.md "Outbound calls"): a new trace per
// span, the sampler's decision for a new trace, a traceparent sent onwards whether or not the
// span is recorded, and the server attributes of a URL without its credentials or query.
#include "kit/trace/tracer.hpp"

#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/span_sink.hpp"

namespace {

using kit::trace::RootSpan;
using kit::trace::Sampler;
using kit::trace::SpanData;
using kit::trace::SpanKind;
using kit::trace::StatusCode;
using kit::trace::Tracer;

const std::regex kTraceparent("00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]");

const kit::trace::AttributeValue* find(const SpanData& span, const std::string& key) {
  for (const auto& a : span.attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

TEST(Tracer, ASampledSpanIsARecordedRootThatItsTraceparentNames) {
  test_support::CollectingSpanSink sink;
  const Tracer tracer(Sampler(), &sink);
  EXPECT_TRUE(tracer.enabled());
  std::string traceparent;
  {
    RootSpan span = tracer.start("POST", SpanKind::client);
    ASSERT_TRUE(span.recording());
    span.attribute("server.address", "hooks.example.com");
    span.attribute("server.port", std::int64_t{443});
    span.fail("503");
    traceparent = span.traceparent();
    EXPECT_EQ(traceparent, "00-" + span.trace_id() + "-" + span.span_id() + "-01");
    EXPECT_TRUE(sink.spans().empty());  // handed over when it ends
    span.end();
    EXPECT_EQ(span.traceparent(), traceparent);  // still sampled once ended
  }
  ASSERT_EQ(sink.spans().size(), 1U);
  const SpanData s = sink.spans().front();
  EXPECT_EQ(traceparent, "00-" + s.trace_id.str() + "-" + s.span_id.str() + "-01");
  EXPECT_TRUE(std::regex_match(traceparent, kTraceparent)) << traceparent;
  EXPECT_EQ(s.parent_span_id, "");  // a root
  EXPECT_EQ(s.name, "POST");
  EXPECT_EQ(s.kind, SpanKind::client);
  EXPECT_EQ(s.status, StatusCode::error);
  EXPECT_LE(s.start_unix_nano, s.end_unix_nano);
  ASSERT_NE(find(s, "server.address"), nullptr);
  EXPECT_EQ(std::get<std::string>(*find(s, "server.address")), "hooks.example.com");
  EXPECT_EQ(std::get<std::int64_t>(*find(s, "server.port")), 443);
  EXPECT_EQ(std::get<std::string>(*find(s, "error.type")), "503");
}

TEST(Tracer, EverySpanStartsATraceOfItsOwn) {
  test_support::CollectingSpanSink sink;
  const Tracer tracer(Sampler(), &sink);
  std::set<std::string> traces;
  for (int i = 0; i < 50; ++i) {
    RootSpan span = tracer.start("work");
    EXPECT_NE(span.trace_id().find_first_not_of('0'), std::string::npos);
    EXPECT_NE(span.span_id().find_first_not_of('0'), std::string::npos);
    traces.insert(span.trace_id());
  }
  EXPECT_EQ(traces.size(), 50U);
  EXPECT_EQ(sink.spans().size(), 50U);
  for (const auto& s : sink.spans()) EXPECT_EQ(s.kind, SpanKind::internal);
}

TEST(Tracer, AnUnsampledSpanRecordsNothingButItsTraceparentStillNamesANewTrace) {
  test_support::CollectingSpanSink sink;
  for (const Tracer& tracer : {Tracer(Sampler(Sampler::Root::always_off, true), &sink),
                               Tracer(Sampler(Sampler::Root::ratio, false, 0.0), &sink),
                               Tracer(Sampler(), nullptr), Tracer()}) {
    RootSpan span = tracer.start("POST", SpanKind::client);
    EXPECT_FALSE(span.recording());
    span.attribute("server.address", "hooks.example.com");
    span.fail("timeout");
    EXPECT_EQ(span.as_parent(), nullptr);
    const std::string traceparent = span.traceparent();
    EXPECT_TRUE(std::regex_match(traceparent, kTraceparent)) << traceparent;
    EXPECT_EQ(traceparent, "00-" + span.trace_id() + "-" + span.span_id() + "-00");
    span.end();
  }
  EXPECT_TRUE(sink.spans().empty());
  EXPECT_FALSE(Tracer().enabled());
  EXPECT_EQ(RootSpan().traceparent(), "");
}

TEST(Tracer, TheRatioDecidesByTheNewTraceId) {
  test_support::CollectingSpanSink sink;
  const Sampler half(Sampler::Root::ratio, true, 0.5);
  const Tracer tracer(half, &sink);
  int recorded = 0;
  for (int i = 0; i < 200; ++i) {
    RootSpan span = tracer.start("work");
    EXPECT_EQ(span.recording(), half.should_sample(span.trace_id(), std::nullopt));
    recorded += span.recording() ? 1 : 0;
  }
  EXPECT_GT(recorded, 0);
  EXPECT_LT(recorded, 200);
  EXPECT_EQ(sink.spans().size(), static_cast<std::size_t>(recorded));
}

TEST(Tracer, ARecordingRootIsTheParentOfChildSpans) {
  test_support::CollectingSpanSink sink;
  const Tracer tracer(Sampler(), &sink);
  {
    RootSpan root = tracer.start("deliver");
    kit::trace::ChildSpan child(root.as_parent(), "POST", SpanKind::client);
    child.end();
    ASSERT_EQ(sink.spans().size(), 1U);
    EXPECT_EQ(sink.spans()[0].trace_id, root.trace_id());
    EXPECT_EQ(sink.spans()[0].parent_span_id, root.span_id());
  }
  EXPECT_EQ(sink.spans().size(), 2U);
}

TEST(ServerEndpoint, HoldsTheServerAndTheUrlWithoutCredentialsQueryOrFragment) {
  struct Case {
    const char* url;
    const char* address;
    std::int64_t port;
    const char* full;
  };
  const Case cases[] = {
      {"https://user:secret@Hooks.Example.com/in?token=abc#x", "hooks.example.com", 443,
       "https://Hooks.Example.com/in"},
      {"http://127.0.0.1:8080/hooks", "127.0.0.1", 8080, "http://127.0.0.1:8080/hooks"},
      {"HTTP://example.org", "example.org", 80, "http://example.org"},
      {"http://[::1]:9000/send?x=1", "::1", 9000, "http://[::1]:9000/send"},
      {"https://[2001:db8::1]/a", "2001:db8::1", 443, "https://[2001:db8::1]/a"},
      {"smtp://mailer:pw@mail.example.com:587", "mail.example.com", 587,
       "smtp://mail.example.com:587"},
      {"smtps://mail.example.com", "mail.example.com", 465, "smtps://mail.example.com"},
      {"smtp://mail.example.com", "mail.example.com", 25, "smtp://mail.example.com"},
      {"ftp://files.example.com/x", "files.example.com", 0, "ftp://files.example.com/x"},
      {"http://example.org:notaport/", "example.org", 80, "http://example.org:notaport/"},
  };
  for (const Case& c : cases) {
    const auto e = kit::trace::server_endpoint(c.url);
    EXPECT_EQ(e.address, c.address) << c.url;
    EXPECT_EQ(e.port, c.port) << c.url;
    EXPECT_EQ(e.url, c.full) << c.url;
  }
}

}  // namespace

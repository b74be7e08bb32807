// The Prometheus text format 0.0.4 as the registry renders it (docs/http-api.md, `GET /metrics`):
// exact bytes for counters, gauges and histograms with labels, HELP and label-value escaping,
// number formatting, and a round trip through the strict test parser.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "kit/metrics/registry.hpp"
#include "kit/metrics/text_format.hpp"
#include "tests/support/exposition_parser.hpp"

namespace {

namespace m = kit::metrics;

std::string value_text(double v) {
  std::string s;
  m::append_value(s, v);
  return s;
}

TEST(MetricsTextFormat, ValuesAreShortestRoundTripGoStyle) {
  EXPECT_EQ(value_text(0), "0");
  EXPECT_EQ(value_text(1), "1");
  EXPECT_EQ(value_text(0.005), "0.005");
  EXPECT_EQ(value_text(2.5), "2.5");
  EXPECT_EQ(value_text(-3), "-3");
  EXPECT_EQ(value_text(1e-7), "1e-07");
  EXPECT_EQ(value_text(123456789012.0), "123456789012");
  EXPECT_EQ(value_text(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(value_text(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(value_text(std::numeric_limits<double>::quiet_NaN()), "NaN");
  std::string s;
  m::append_value(s, std::uint64_t{18446744073709551615ULL});
  EXPECT_EQ(s, "18446744073709551615");
}

TEST(MetricsTextFormat, EscapesHelpAndLabelValues) {
  std::string help;
  m::append_escaped_help(help, "a \\ b\nc \"quoted\"");
  EXPECT_EQ(help, R"(a \\ b\nc "quoted")");  // quotes stay as they are in HELP
  std::string label;
  m::append_escaped_label_value(label, "a \\ b\nc \"quoted\" é");
  EXPECT_EQ(label, R"(a \\ b\nc \"quoted\" é)");
}

TEST(MetricsTextFormat, NameRules) {
  EXPECT_TRUE(m::valid_metric_name("http_requests_total"));
  EXPECT_TRUE(m::valid_metric_name("ns:sub_metric"));
  EXPECT_FALSE(m::valid_metric_name("1abc"));
  EXPECT_FALSE(m::valid_metric_name("a-b"));
  EXPECT_FALSE(m::valid_metric_name(""));
  EXPECT_TRUE(m::valid_label_name("route"));
  EXPECT_FALSE(m::valid_label_name("__name__"));
  EXPECT_FALSE(m::valid_label_name("a:b"));
  EXPECT_FALSE(m::valid_label_name("9x"));
}

TEST(MetricsTextFormat, RendersEveryTypeExactly) {
  m::Registry r;
  auto& requests = r.counter("requests_total", "Requests.\nSecond \\ line.", {"method", "route"});
  requests.labels("GET", "/users/{id}").inc(3);
  requests.labels("POST", "/a\"b\\c\nd").inc();
  r.gauge("in_flight", "Now.").labels().set(2);
  auto& h = r.histogram("latency_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  auto& users = h.labels("/users");
  users.observe(0.05);
  users.observe(0.1);  // le is inclusive: lands in the 0.1 bucket
  users.observe(0.7);
  users.observe(3);
  const std::string expected =
      "# HELP in_flight Now.\n"
      "# TYPE in_flight gauge\n"
      "in_flight 2\n"
      "# HELP latency_seconds Latency.\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{route=\"/users\",le=\"0.1\"} 2\n"
      "latency_seconds_bucket{route=\"/users\",le=\"0.5\"} 2\n"
      "latency_seconds_bucket{route=\"/users\",le=\"1\"} 3\n"
      "latency_seconds_bucket{route=\"/users\",le=\"+Inf\"} 4\n"
      "latency_seconds_sum{route=\"/users\"} 3.85\n"
      "latency_seconds_count{route=\"/users\"} 4\n"
      "# HELP requests_total Requests.\\nSecond \\\\ line.\n"
      "# TYPE requests_total counter\n"
      "requests_total{method=\"GET\",route=\"/users/{id}\"} 3\n"
      "requests_total{method=\"POST\",route=\"/a\\\"b\\\\c\\nd\"} 1\n";
  EXPECT_EQ(r.render(), expected);

  const auto parsed = metrics_test::parse_exposition(r.render());
  EXPECT_EQ(parsed.family("requests_total").help, "Requests.\nSecond \\ line.");
  EXPECT_EQ(parsed.value("requests_total", {{"method", "POST"}, {"route", "/a\"b\\c\nd"}}), 1);
  EXPECT_EQ(parsed.value("latency_seconds", "latency_seconds_count", {{"route", "/users"}}), 4);
}

TEST(MetricsTextFormat, FamilyWithoutLabelSetsHasOnlyItsHeader) {
  m::Registry r;
  (void)r.counter("errors_total", "Errors.", {"kind"});
  EXPECT_EQ(r.render(), "# HELP errors_total Errors.\n# TYPE errors_total counter\n");
  EXPECT_NO_THROW(metrics_test::parse_exposition(r.render()));
}

TEST(MetricsTextFormat, CallbacksAreSortedInWithFamilies) {
  m::Registry r;
  r.counter("b_total", "B.").labels().inc();
  const auto a = r.callback("a_value", "A.", m::Type::gauge, {"state"}, [](m::Sink& s) {
    s.add(1.5, {"idle"});
    s.add(0, {"in_use"});
  });
  const auto c = r.callback("c_total", "C.", m::Type::counter, {}, [](m::Sink& s) { s.add(7); });
  EXPECT_EQ(r.render(),
            "# HELP a_value A.\n# TYPE a_value gauge\n"
            "a_value{state=\"idle\"} 1.5\na_value{state=\"in_use\"} 0\n"
            "# HELP b_total B.\n# TYPE b_total counter\nb_total 1\n"
            "# HELP c_total C.\n# TYPE c_total counter\nc_total 7\n");
}

}  // namespace

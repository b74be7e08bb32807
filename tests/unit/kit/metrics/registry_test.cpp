// The registry's rules: get-or-create families, shape clashes and bad names refused, callbacks
// removed with their Registration, a failing callback empties only its family, label sets
// bounded.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "kit/metrics/registry.hpp"
#include "tests/support/exposition_parser.hpp"

namespace {

namespace m = kit::metrics;

TEST(MetricsRegistry, SameShapeReturnsTheSameFamily) {
  m::Registry r;
  auto& a = r.counter("x_total", "X.", {"policy"});
  auto& b = r.counter("x_total", "X again.", {"policy"});
  EXPECT_EQ(&a, &b);
  a.labels("auth").inc();
  b.labels("auth").inc();
  EXPECT_EQ(a.labels("auth").value(), 2u);
  auto& h1 = r.histogram("h_seconds", "H.", {}, {1, 2});
  EXPECT_EQ(&h1, &r.histogram("h_seconds", "H.", {}, {1, 2}));
}

TEST(MetricsRegistry, RefusesClashesAndBadNames) {
  m::Registry r;
  (void)r.counter("x_total", "X.", {"policy"});
  EXPECT_THROW((void)r.counter("x_total", "X.", {"other"}), std::invalid_argument);
  EXPECT_THROW((void)r.gauge("x_total", "X."), std::invalid_argument);
  (void)r.histogram("lat", "L.", {}, {1});
  EXPECT_THROW((void)r.histogram("lat", "L.", {}, {2}), std::invalid_argument);
  // A histogram's series names are taken too.
  EXPECT_THROW((void)r.counter("lat_count", "C."), std::invalid_argument);
  EXPECT_THROW((void)r.gauge("lat_sum", "S."), std::invalid_argument);
  // …and a histogram cannot take a name whose series exist already.
  (void)r.counter("y_bucket", "Y.");
  EXPECT_THROW((void)r.histogram("y", "Y.", {}, {1}), std::invalid_argument);
}

TEST(MetricsRegistry, RefusesInvalidDefinitions) {
  m::Registry r;
  EXPECT_THROW((void)r.counter("bad-name", "B."), std::invalid_argument);
  EXPECT_THROW((void)r.counter("ok_total", "B.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW((void)r.histogram("h", "H.", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW((void)r.histogram("h2", "H.", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW((void)r.histogram("h3", "H.", {}, {1, 1}), std::invalid_argument);
  auto& c = r.counter("c_total", "C.", {"a", "b"});
  EXPECT_THROW(c.labels("only-one"), std::invalid_argument);
}

TEST(MetricsRegistry, CallbackLivesAsLongAsItsRegistration) {
  m::Registry r;
  {
    const auto reg =
        r.callback("pool_open", "Open.", m::Type::gauge, {}, [](m::Sink& s) { s.add(3); });
    EXPECT_NE(r.render().find("pool_open 3\n"), std::string::npos);
    EXPECT_THROW((void)r.callback("pool_open", "Open.", m::Type::gauge, {}, [](m::Sink&) {}),
                 std::invalid_argument);
  }
  EXPECT_EQ(r.render(), "");
  // The name is free again.
  auto moved = r.callback("pool_open", "Open.", m::Type::gauge, {}, [](m::Sink& s) { s.add(1); });
  m::Registration other = std::move(moved);
  EXPECT_NE(r.render().find("pool_open 1\n"), std::string::npos);
  other.reset();
  EXPECT_EQ(r.render(), "");
}

TEST(MetricsRegistry, FailingCallbackLeavesItsFamilyEmptyAndTheRestIntact) {
  m::Registry r;
  r.counter("ok_total", "OK.").labels().inc();
  const auto reg = r.callback("broken", "Broken.", m::Type::gauge, {},
                              [](m::Sink&) { throw std::runtime_error("cannot read /proc"); });
  const auto wrong = r.callback("wrong_labels", "W.", m::Type::gauge, {"state"}, [](m::Sink& s) {
    s.add(1);  // no label value for `state`
  });
  const std::string text = r.render();
  EXPECT_EQ(text,
            "# HELP broken Broken.\n# TYPE broken gauge\n"
            "# HELP ok_total OK.\n# TYPE ok_total counter\nok_total 1\n"
            "# HELP wrong_labels W.\n# TYPE wrong_labels gauge\n");
}

TEST(MetricsRegistry, LabelSetsAreBounded) {
  m::CounterFamily family("f_total", "F.", {"k"}, {}, /*max_label_sets=*/3);
  for (int i = 0; i < 10; ++i) family.labels(std::to_string(i)).inc();
  m::TextWriter out;
  family.render(out);
  EXPECT_EQ(out.str(),
            "# HELP f_total F.\n# TYPE f_total counter\n"
            "f_total{k=\"0\"} 1\nf_total{k=\"1\"} 1\nf_total{k=\"2\"} 1\n");
  // Existing label sets keep working after the bound is reached.
  family.labels("1").inc();
  EXPECT_EQ(family.labels("1").value(), 2u);
}

TEST(MetricsRegistry, ManyLabelSetsSurviveTableGrowth) {
  m::Registry r;
  auto& family = r.counter("grow_total", "G.", {"a", "b"});
  for (int i = 0; i < 500; ++i) family.labels(std::to_string(i), std::to_string(i % 7)).inc(i);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(family.labels(std::to_string(i), std::to_string(i % 7)).value(),
              static_cast<std::uint64_t>(i));
  }
  // Values that concatenate alike are still different label sets.
  auto& pair = r.counter("pair_total", "P.", {"a", "b"});
  pair.labels("ab", "c").inc();
  pair.labels("a", "bc").inc(5);
  EXPECT_EQ(pair.labels("ab", "c").value(), 1u);
  EXPECT_EQ(pair.labels("a", "bc").value(), 5u);
  EXPECT_NO_THROW(metrics_test::parse_exposition(r.render()));
}

}  // namespace

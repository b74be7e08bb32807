// The strict exposition parser used by the metrics tests must itself refuse malformed text,
// otherwise "it parses" would prove nothing.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tests/support/exposition_parser.hpp"

namespace {

using metrics_test::parse_exposition;

const std::string kHead = "# HELP x X.\n# TYPE x counter\n";
const std::string kHist =
    "# HELP h H.\n# TYPE h histogram\n"
    "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";

TEST(ExpositionParser, AcceptsWellFormedText) {
  const auto e = parse_exposition(kHead + "x{a=\"q\\\"\\\\\\n\"} 1\n" + kHist);
  EXPECT_EQ(e.value("x", {{"a", "q\"\\\n"}}), 1);
  EXPECT_EQ(e.value("h", "h_count"), 2);
  EXPECT_NO_THROW(parse_exposition(""));
}

TEST(ExpositionParser, RefusesMalformedText) {
  const char* bad[] = {
      "x 1\n",                                                  // no HELP/TYPE
      "# HELP x X.\nx 1\n",                                     // no TYPE
      "# HELP x X.\n# TYPE x counter\nx 1",                     // no final newline
      "# HELP x X.\n# TYPE x counter\n\nx 1\n",                 // blank line
      "# HELP x X.\n# TYPE x counter\n# note\nx 1\n",           // stray comment
      "# HELP x X.\n# TYPE x counter\nx 1 1700000000\n",        // timestamp
      "# HELP x X.\n# TYPE x counter\nx{a=\"1\",} 1\n",         // trailing comma
      "# HELP x X.\n# TYPE x counter\nx{a=1} 1\n",              // unquoted value
      "# HELP x X.\n# TYPE x counter\nx{a=\"\\t\"} 1\n",        // unknown escape
      "# HELP x X.\n# TYPE x counter\nx{a=\"1\",a=\"2\"} 1\n",  // duplicate label
      "# HELP x X.\n# TYPE x counter\nx -1\n",                  // negative counter
      "# HELP x X.\n# TYPE x counter\nx one\n",                 // bad value
      "# HELP x X.\n# TYPE x counter\nx 1\nx 2\n",              // duplicate series
      "# HELP x X.\n# TYPE x counter\ny 1\n",                   // sample outside its family
      "# HELP x X.\n# TYPE x counter\nx 1\n# HELP x X.\n",      // family declared twice
      "# HELP x X.\n# TYPE x sometype\nx 1\n",                  // unknown type
      // histograms: +Inf missing, counts decreasing, _count != +Inf, bounds out of order, no _sum
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
      "h_sum 1\nh_count 1\n",
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
      "# HELP h H.\n# TYPE h histogram\nh 1\n",  // a bare histogram sample
  };
  for (const char* text : bad) {
    EXPECT_THROW(parse_exposition(text), std::runtime_error) << text;
  }
}

}  // namespace

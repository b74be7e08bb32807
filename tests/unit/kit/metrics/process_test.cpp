// Process metrics: parsing /proc text (a command name with spaces and parentheses included) and
// reading the live values of this test process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "kit/metrics/process.hpp"
#include "tests/support/exposition_parser.hpp"

namespace {

namespace m = kit::metrics;

// proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
// utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss ...
constexpr std::string_view kStat =
    "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
    "250 75 0 0 20 0 3 0 123456 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
    "1 0 0 0 0 0\n";

TEST(ProcessMetrics, ParsesProcStat) {
  const auto stat = m::parse_proc_stat(kStat);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 75u);
  EXPECT_EQ(stat->start_ticks, 123456u);
  EXPECT_FALSE(m::parse_proc_stat("4242 (truncated"));
  EXPECT_FALSE(m::parse_proc_stat("4242 (x) S 1 2"));
  EXPECT_FALSE(m::parse_proc_stat(""));
}

TEST(ProcessMetrics, ParsesBootTimeAndStatm) {
  EXPECT_EQ(m::parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000u);
  EXPECT_FALSE(m::parse_boot_time("cpu 1\n"));
  EXPECT_EQ(m::parse_statm_size_pages("5000 1200 300 10 0 900 0\n"), 5000u);
  EXPECT_EQ(m::parse_statm_resident_pages("5000 1200 300 10 0 900 0\n"), 1200u);
  EXPECT_FALSE(m::parse_statm_resident_pages("5000"));
}

TEST(ProcessMetrics, ReportsThisProcess) {
  m::Registry r;
  const auto registrations = m::register_process_metrics(r);
  // Burn a little CPU so the counter is visibly positive.
  volatile double sink = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  while (std::chrono::steady_clock::now() < until) sink = sink + 1;
  const auto parsed = metrics_test::parse_exposition(r.render());
  EXPECT_GT(*parsed.value("process_cpu_seconds_total"), 0);
  EXPECT_GT(*parsed.value("process_resident_memory_bytes"), 1024 * 1024);
  EXPECT_GE(*parsed.value("process_virtual_memory_bytes"),
            *parsed.value("process_resident_memory_bytes"));
  EXPECT_GE(*parsed.value("process_open_fds"), 3);  // stdin, stdout, stderr at least
  EXPECT_GE(*parsed.value("process_max_fds"), *parsed.value("process_open_fds"));
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  const double start = *parsed.value("process_start_time_seconds");
  EXPECT_LE(start, now + 2);
  EXPECT_GT(start, now - 24 * 3600) << "this test process started within a day";
  EXPECT_EQ(parsed.family("process_cpu_seconds_total").type, "counter");
}

}  // namespace

// kit::log::AsyncWriter: the batching background writer of the log (README "Logging": one line
// per event, a blocked stdout never blocks a caller, drops are counted and reported, everything
// accepted is written at shutdown).
#include "kit/log/async_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using kit::log::AsyncWriter;
using namespace std::chrono_literals;

// A temporary file to write into and read back.
class TempFile {
 public:
  TempFile() : file_(std::tmpfile()) {}
  ~TempFile() {
    if (file_) std::fclose(file_);
  }
  int fd() const { return fileno(file_); }
  std::string contents() const {
    std::string out;
    char buf[65536];
    off_t offset = 0;
    for (;;) {
      const ssize_t n = ::pread(fd(), buf, sizeof buf, offset);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      offset += n;
    }
    return out;
  }

 private:
  std::FILE* file_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  EXPECT_EQ(start, text.size()) << "text does not end with a newline";
  return out;
}

// "dropped N" notices, for the tests.
AsyncWriter::Options counting_options(std::size_t max_pending_bytes) {
  return {.max_pending_bytes = max_pending_bytes,
          .linger = 200us,
          .dropped_notice = [](std::uint64_t n) { return "dropped " + std::to_string(n); }};
}

// Many threads log at once: after stop() every accepted line is there exactly once, whole, and
// each thread's lines are in the order it pushed them; the notices account for every line that
// was dropped. `expect_no_drops`: with a buffer larger than everything, nothing is dropped.
void expect_every_line_in_order(std::size_t max_pending_bytes, bool expect_no_drops) {
  TempFile file;
  constexpr int kThreads = 4;
  constexpr int kLines = 5000;
  std::uint64_t dropped = 0;
  {
    AsyncWriter writer(file.fd(), counting_options(max_pending_bytes));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&writer, t] {
        for (int i = 0; i < kLines; ++i) {
          writer.push("{\"thread\":" + std::to_string(t) + ",\"seq\":" + std::to_string(i) + "}");
        }
      });
    }
    for (auto& th : threads) th.join();
    writer.stop();
    dropped = writer.dropped_total();
  }
  std::map<int, int> next;
  std::uint64_t written = 0;
  std::uint64_t noticed = 0;
  for (const auto& line : lines_of(file.contents())) {
    unsigned long long n = 0;
    if (std::sscanf(line.c_str(), "dropped %llu", &n) == 1) {
      EXPECT_GT(n, 0u);
      noticed += n;
      continue;
    }
    int t = -1;
    int seq = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "{\"thread\":%d,\"seq\":%d}", &t, &seq), 2) << line;
    if (expect_no_drops) {
      EXPECT_EQ(seq, next[t]) << "thread " << t;
    } else {
      EXPECT_GE(seq, next[t]) << "thread " << t;
    }
    next[t] = seq + 1;
    ++written;
  }
  EXPECT_EQ(written + dropped, static_cast<std::uint64_t>(kThreads * kLines));
  EXPECT_EQ(noticed, dropped) << "the notices count every dropped line";
  if (expect_no_drops) {
    EXPECT_EQ(dropped, 0u);
  }
}

TEST(AsyncWriter, EveryLineOnceAndInOrderAfterStop) {
  expect_every_line_in_order(4 * 1024 * 1024, true);
}

// Smaller than two lines: the producers outrun the writer, and drop instead of waiting.
TEST(AsyncWriter, NoticesCountEveryLineWhenNothingFits) {
  expect_every_line_in_order(64, false);
}

// stdout blocked (a pipe nobody reads): push() never waits; lines past the bound are dropped and
// counted; once the reader drains the pipe, the accepted lines come out in order, followed by a
// notice with the number dropped.
TEST(AsyncWriter, FullBufferDropsAndCountsInsteadOfBlocking) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_GT(::fcntl(fds[1], F_SETPIPE_SZ, 4096), 0);
  constexpr int kLines = 20000;
  const std::string pad(90, 'x');
  AsyncWriter writer(fds[1], counting_options(8 * 1024));
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) writer.push(std::to_string(i) + " " + pad);
  const auto pushing = std::chrono::steady_clock::now() - started;
  // 20000 lines of ~96 bytes are ~1.9 MB; the pipe, the batch being written and the pending
  // buffer hold ~21 KB at most. Every push returned although nothing was read.
  const std::uint64_t dropped = writer.dropped_total();
  EXPECT_GT(dropped, static_cast<std::uint64_t>(kLines - 400));
  EXPECT_LT(dropped, static_cast<std::uint64_t>(kLines));
  std::string out;
  std::thread reader([&] {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  });
  writer.stop();
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  const auto lines = lines_of(out);
  ASSERT_FALSE(lines.empty());
  int last = -1;
  std::uint64_t written = 0;
  std::uint64_t noticed = 0;
  for (const auto& line : lines) {
    unsigned long long n = 0;
    if (std::sscanf(line.c_str(), "dropped %llu", &n) == 1) {
      noticed += n;
      continue;
    }
    const int seq = std::stoi(line);
    EXPECT_GT(seq, last) << "accepted lines keep their order";
    last = seq;
    ++written;
  }
  EXPECT_EQ(noticed, dropped);
  EXPECT_EQ(written + dropped, static_cast<std::uint64_t>(kLines));
  EXPECT_EQ(lines.back(), "dropped " + std::to_string(dropped)) << "one notice, after the lines";
  // For the record in the test log: pushing never waited for the reader.
  std::printf("pushed %d lines in %.3f ms with stdout blocked; dropped %llu\n", kLines,
              std::chrono::duration<double, std::milli>(pushing).count(),
              static_cast<unsigned long long>(dropped));
}

TEST(AsyncWriter, FlushReturnsWhenEarlierLinesAreWritten) {
  TempFile file;
  AsyncWriter writer(file.fd(), {.linger = 50ms});  // a long linger: flush must not rely on it
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) writer.push("line " + std::to_string(round * 100 + i));
    writer.flush();
    const auto lines = lines_of(file.contents());
    ASSERT_EQ(lines.size(), static_cast<std::size_t>((round + 1) * 100));
    EXPECT_EQ(lines.back(), "line " + std::to_string(round * 100 + 99));
  }
}

TEST(AsyncWriter, LinesPushedAfterStopAreWrittenDirectly) {
  TempFile file;
  AsyncWriter writer(file.fd(), {});
  writer.push("before");
  writer.stop();
  EXPECT_FALSE(writer.running());
  writer.push("after");
  writer.flush();  // returns at once: nothing is pending
  writer.stop();   // idempotent
  EXPECT_EQ(file.contents(), "before\nafter\n");
}

}  // namespace

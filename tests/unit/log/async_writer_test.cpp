// kit::log::AsyncWriter: the batching background writer of the log (SPEC §4: one line per event,
// nothing lost, everything written at shutdown).
#include "kit/log/async_writer.hpp"

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

// Many threads log at once: after stop() every line is there exactly once, whole, and each
// thread's lines are in the order it pushed them.
void expect_every_line_in_order(std::size_t max_pending_bytes) {
  TempFile file;
  constexpr int kThreads = 4;
  constexpr int kLines = 5000;
  {
    AsyncWriter writer(file.fd(), {.max_pending_bytes = max_pending_bytes, .linger = 200us});
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
  }
  std::map<int, int> next;
  const auto lines = lines_of(file.contents());
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLines));
  for (const auto& line : lines) {
    int t = -1;
    int seq = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "{\"thread\":%d,\"seq\":%d}", &t, &seq), 2) << line;
    EXPECT_EQ(seq, next[t]) << "thread " << t;
    next[t] = seq + 1;
  }
}

TEST(AsyncWriter, EveryLineOnceAndInOrderAfterStop) {
  expect_every_line_in_order(4 * 1024 * 1024);
}

TEST(AsyncWriter, FullBufferBlocksProducersInsteadOfDropping) {
  expect_every_line_in_order(64);  // smaller than two lines: producers wait for the writer
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

#pragma once
// Helpers for the SQLite integration tests: a temporary folder removed afterwards, and running
// a coroutine to completion on an io_context.
#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include <unistd.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace sqlite_test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("user-service-sqlite-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const noexcept { return path_; }
  std::string file(const std::string& relative) const { return (path_ / relative).string(); }

 private:
  std::filesystem::path path_;
};

// Runs body() on `io` until it completes and returns its result (or rethrows).
template <class T>
T run(boost::asio::io_context& io, std::function<boost::asio::awaitable<T>()> body) {
  auto done = boost::asio::co_spawn(io, std::move(body), boost::asio::use_future);
  io.restart();
  io.run();
  return done.get();
}

inline void run(boost::asio::io_context& io, std::function<boost::asio::awaitable<void>()> body) {
  auto done = boost::asio::co_spawn(io, std::move(body), boost::asio::use_future);
  io.restart();
  io.run();
  done.get();
}

}  // namespace sqlite_test

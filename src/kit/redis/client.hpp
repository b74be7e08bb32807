#pragma once
// A non-blocking Redis client (REDIS_URL in docs/configuration.md): one pipelined connection driven
// by the Asio event loop, with hiredis 0.14 used only for what it is good at — formatting commands
// (redisFormatCommandArgv) and parsing replies (redisReader) — over an Asio TCP socket.
//
// - AUTH (user + password, or password) and SELECT db from the URL on every (re)connect.
// - Every command is bounded by `command_timeout` (connecting included). A command that times
//   out closes the connection (a server that stopped answering is treated as gone), so later
//   commands do not queue behind it.
// - While disconnected, a command first waits for the reconnect backoff to pass: inside the
//   backoff window it fails at once with UnavailableError (no hang while Redis is down); after
//   it, one connection attempt is made. Backoff doubles from `reconnect_initial_backoff` up to
//   `reconnect_max_backoff` and resets on success.
// - Scripts are called by SHA (EVALSHA) and loaded with SCRIPT LOAD on NOSCRIPT.
//
// Threading: a connection lives on one executor. Built with the executors of the server's I/O
// threads, the client keeps one connection per thread and a command goes out on the connection
// of the thread it is awaited on: no thread hop, and the commands of one thread are pipelined
// on its own socket (a single shared connection cost the Redis rate limiter two cross-thread
// hops per request). Awaited from any other executor, a command hops to the first connection's
// executor with co_spawn and resumes the caller on its own. No call blocks a thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "kit/config/redis_url.hpp"
#include "kit/redis/reply.hpp"
#include "kit/redis/script.hpp"
#include "kit/trace/parent.hpp"

namespace kit::redis {

namespace detail {
class ClientCore;
}

struct ClientOptions {
  config::RedisUrl url;
  std::chrono::milliseconds connect_timeout{1000};  // one connection attempt (TCP + AUTH)
  std::chrono::milliseconds command_timeout{500};   // one command, connecting included
  std::chrono::milliseconds reconnect_initial_backoff{100};
  std::chrono::milliseconds reconnect_max_backoff{2000};
  std::size_t max_pending = 10'000;  // commands in flight; more fail with UnavailableError
  std::size_t max_reply_bytes = 16 * 1024 * 1024;
};

struct ClientStats {
  std::uint64_t connects = 0;  // successful connections (the first one included)
  std::uint64_t connect_failures = 0;
  std::uint64_t timeouts = 0;
  bool connected = false;
};

class Client {
 public:
  // One connection, on `executor`.
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  // One connection per executor (at least one), opened on first use.
  Client(const std::vector<boost::asio::any_io_executor>& executors, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one command (`args[0]` is the command name). Returns the reply; an error reply is
  // thrown as ReplyError, connection problems and timeouts as UnavailableError.
  // `parent`: a sampled request's span (RequestContext::span_parent()); the call is then
  // recorded as a child span named by the command (docs/tracing.md "Child spans").
  boost::asio::awaitable<Reply> command(std::vector<std::string> args,
                                        const kit::trace::Parent* parent = nullptr);

  // EVALSHA script keys... args..., with SCRIPT LOAD and one retry on NOSCRIPT (one span).
  boost::asio::awaitable<Reply> eval(const Script& script, std::vector<std::string> keys,
                                     std::vector<std::string> args,
                                     const kit::trace::Parent* parent = nullptr);

  // PING on every connection (one per executor), from any caller; throws UnavailableError
  // (message without credentials) when one fails. Readiness uses it: Redis counts as up only
  // when every I/O thread's connection answers.
  boost::asio::awaitable<void> ping();

  // Fails everything in flight and closes every connection; later commands fail.
  boost::asio::awaitable<void> close();

  // Summed over the connections; `connected` when every connection opened so far is up.
  ClientStats stats() const noexcept;
  const boost::asio::any_io_executor& executor() const noexcept;  // the first connection's

 private:
  // The connection on `ex`, or the first one when none lives there.
  const std::shared_ptr<detail::ClientCore>& core_for(const boost::asio::any_io_executor& ex) const;

  std::vector<std::shared_ptr<detail::ClientCore>> cores_;
};

}  // namespace kit::redis

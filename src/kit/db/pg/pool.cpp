#include "kit/db/pg/pool.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/pg/detail/pool_core.hpp"
#include "kit/db/spans.hpp"
#include "kit/trace/child_span.hpp"

namespace kit::db::pg {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using detail::PoolCore;

// Each public coroutine either runs the shard's coroutine directly (the caller is on that
// shard's executor: no hop, bench/) or creates it and co_spawns it onto a shard;
// co_spawn then delivers the result through the caller's handler, i.e. on the caller's
// executor. The core is kept alive by the shared_ptr in the coroutine's parameters.

namespace {

// Shard i's share of `total`: the remainder goes to the first shards.
std::size_t share(std::size_t total, std::size_t shards, std::size_t i) {
  return total / shards + (i < total % shards ? 1 : 0);
}

}  // namespace

Pool::Pool(asio::any_io_executor executor, PoolOptions options)
    : Pool(std::vector<asio::any_io_executor>{std::move(executor)}, std::move(options)) {}

Pool::Pool(std::vector<asio::any_io_executor> executors, PoolOptions options)
    : options_(std::move(options)) {
  if (executors.empty()) throw std::invalid_argument("a pool needs at least one executor");
  if (options_.size == 0) options_.size = 1;
  kit::metrics::Registry* const registry = options_.metrics;
  PoolOptions shard_options = options_;
  if (registry != nullptr) {
    auto& wait = kit::metrics::db_pool_wait_histogram(*registry);
    shard_options.on_wait = [&wait, chained = options_.on_wait](std::chrono::nanoseconds d) {
      wait.observe(std::chrono::duration<double>(d).count());
      if (chained) chained(d);
    };
  }
  const std::size_t n = std::min(executors.size(), options_.size);
  for (std::size_t i = 0; i < n; ++i) {
    PoolOptions o = shard_options;
    o.size = share(options_.size, n, i);
    o.max_overflow = share(options_.max_overflow, n, i);
    cores_.push_back(std::make_shared<PoolCore>(executors[i], std::move(o)));
  }
  if (registry == nullptr) return;
  const std::size_t max = options_.size + options_.max_overflow;
  metrics_ = kit::metrics::register_db_pool_gauges(
      *registry,
      "PostgreSQL pool connections by state: idle (open, free), in_use (leased, or serving "
      "pipelined statements), connecting (being opened).",
      [this, max] {
        const Stats s = stats();
        return kit::metrics::DbPoolReading{.idle = static_cast<double>(s.idle),
                                           .in_use = static_cast<double>(s.in_use),
                                           .connecting = static_cast<double>(s.connecting),
                                           .waiting = static_cast<double>(s.waiting),
                                           .max = static_cast<double>(max)};
      });
}

Pool::~Pool() = default;

const std::shared_ptr<PoolCore>* Pool::local(const asio::any_io_executor& current) const noexcept {
  for (const auto& core : cores_) {
    if (core->executor() == current) return &core;
  }
  return nullptr;
}

const std::shared_ptr<PoolCore>& Pool::any_shard() noexcept {
  return cores_[next_shard_.fetch_add(1, std::memory_order_relaxed) % cores_.size()];
}

awaitable<void> Pool::start() {
  // The first shard waits for the server (with backoff and logging); the others then connect.
  for (const auto& core : cores_) {
    co_await asio::co_spawn(core->executor(), PoolCore::start(core), use_awaitable);
  }
}

awaitable<Result> Pool::query(const Statement& statement, Params params, Retry retry,
                              kit::async::Deadline deadline) {
  // The statement's child span (docs/tracing.md "Child spans"): from the caller's wait for a
  // connection or a pipeline turn to the result, retries included. Never its parameters.
  kit::trace::ChildSpan span(deadline.trace(), statement.summary, kit::trace::SpanKind::client);
  if (span.recording()) {
    span.attribute("db.system.name", "postgresql");
    span.attribute("db.operation.name", statement.operation);
    span.attribute("db.query.summary", statement.summary);
  }
  try {
    co_return co_await run(statement, std::move(params), retry, deadline);
  } catch (const std::exception& e) {
    fail_span(span, e);
    throw;
  }
}

awaitable<Result> Pool::run(const Statement& statement, Params params, Retry retry,
                            kit::async::Deadline deadline) {
  const asio::any_io_executor current = co_await asio::this_coro::executor;
  const std::shared_ptr<PoolCore>* mine = local(current);
  if (mine != nullptr) {
    if ((*mine)->options().pipelining) {
      co_return co_await PoolCore::pipelined(*mine, statement, params, retry, deadline);
    }
    auto direct = PoolCore::query(*mine, statement, std::move(params), retry, deadline);
    co_return co_await std::move(direct);
  }
  const std::shared_ptr<PoolCore>& shard = any_shard();
  if (shard->options().pipelining) {
    // The statement and the parameters live in this frame until the hop completes.
    co_return co_await asio::co_spawn(
        shard->executor(), PoolCore::pipelined(shard, statement, params, retry, deadline),
        use_awaitable);
  }
  co_return co_await asio::co_spawn(
      shard->executor(), PoolCore::query(shard, statement, std::move(params), retry, deadline),
      use_awaitable);
}

awaitable<void> Pool::ping() {
  const asio::any_io_executor current = co_await asio::this_coro::executor;
  const std::shared_ptr<PoolCore>* mine = local(current);
  const std::shared_ptr<PoolCore>& shard = mine != nullptr ? *mine : any_shard();
  co_await asio::co_spawn(shard->executor(), PoolCore::ping(shard), use_awaitable);
}

awaitable<void> Pool::with_connection(std::function<awaitable<void>(Connection&)> fn) {
  const asio::any_io_executor current = co_await asio::this_coro::executor;
  const std::shared_ptr<PoolCore>* mine = local(current);
  const std::shared_ptr<PoolCore>& shard = mine != nullptr ? *mine : any_shard();
  co_await asio::co_spawn(shard->executor(), PoolCore::with_connection(shard, std::move(fn)),
                          use_awaitable);
}

Stats Pool::stats() const noexcept {
  Stats total;
  for (const auto& core : cores_) {
    const Stats s = core->stats();
    total.open += s.open;
    total.connecting += s.connecting;
    total.idle += s.idle;
    total.in_use += s.in_use;
    total.waiting += s.waiting;
    total.acquisitions += s.acquisitions;
    total.wait_seconds_total += s.wait_seconds_total;
  }
  return total;
}

awaitable<void> Pool::close() {
  for (const auto& core : cores_) {
    co_await asio::co_spawn(core->executor(), PoolCore::close(core), use_awaitable);
  }
}

const asio::any_io_executor& Pool::executor() const noexcept {
  return cores_.front()->executor();
}

}  // namespace kit::db::pg

#include "kit/db/pg/pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/pg/detail/pool_core.hpp"

namespace kit::db::pg {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using detail::PoolCore;

// Each public coroutine is created here but first resumed on the pool's executor by co_spawn;
// co_spawn then delivers the result through the caller's handler, i.e. on the caller's
// executor. The core is kept alive by the shared_ptr in the coroutine's parameters.
// A query from a coroutine that already runs on the pool's executor is awaited directly: the
// hop would cost a frame, a post and a wake-up for nothing (bench/, issue 8).

Pool::Pool(asio::any_io_executor executor, PoolOptions options) {
  kit::metrics::Registry* const registry = options.metrics;
  if (registry != nullptr) {
    auto& wait = kit::metrics::db_pool_wait_histogram(*registry);
    options.on_wait = [&wait, chained = std::move(options.on_wait)](std::chrono::nanoseconds d) {
      wait.observe(std::chrono::duration<double>(d).count());
      if (chained) chained(d);
    };
  }
  const std::size_t max = options.size + options.max_overflow;
  core_ = std::make_shared<PoolCore>(std::move(executor), std::move(options));
  if (registry == nullptr) return;
  metrics_ = kit::metrics::register_db_pool_gauges(
      *registry,
      "PostgreSQL pool connections by state: idle (open, free), in_use (leased), connecting "
      "(being opened).",
      [core = core_.get(), max] {
        const Stats s = core->stats();
        return kit::metrics::DbPoolReading{.idle = static_cast<double>(s.idle),
                                           .in_use = static_cast<double>(s.in_use),
                                           .connecting = static_cast<double>(s.connecting),
                                           .waiting = static_cast<double>(s.waiting),
                                           .max = static_cast<double>(max)};
      });
}

Pool::~Pool() = default;

awaitable<void> Pool::start() {
  co_await asio::co_spawn(core_->executor(), PoolCore::start(core_), use_awaitable);
}

awaitable<Result> Pool::query(const Statement& statement, Params params, Retry retry) {
  const asio::any_io_executor current = co_await asio::this_coro::executor;
  if (current == core_->executor()) {
    auto direct = PoolCore::query(core_, statement, std::move(params), retry);
    co_return co_await std::move(direct);
  }
  co_return co_await asio::co_spawn(core_->executor(),
                                    PoolCore::query(core_, statement, std::move(params), retry),
                                    use_awaitable);
}

awaitable<void> Pool::ping() {
  co_await asio::co_spawn(core_->executor(), PoolCore::ping(core_), use_awaitable);
}

awaitable<void> Pool::with_connection(std::function<awaitable<void>(Connection&)> fn) {
  co_await asio::co_spawn(core_->executor(), PoolCore::with_connection(core_, std::move(fn)),
                          use_awaitable);
}

Stats Pool::stats() const noexcept {
  return core_->stats();
}

awaitable<void> Pool::close() {
  co_await asio::co_spawn(core_->executor(), PoolCore::close(core_), use_awaitable);
}

const asio::any_io_executor& Pool::executor() const noexcept {
  return core_->executor();
}

const PoolOptions& Pool::options() const noexcept {
  return core_->options();
}

}  // namespace kit::db::pg

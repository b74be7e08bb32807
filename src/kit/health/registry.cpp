#include "kit/health/registry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace kit::health {

namespace asio = boost::asio;

void Registry::add(std::string name, Check check) {
  checks_.push_back({std::move(name), std::move(check)});
}

asio::awaitable<std::vector<CheckResult>> Registry::run(std::chrono::milliseconds timeout) const {
  auto executor = co_await asio::this_coro::executor;
  // Shared with the spawned checks, which may outlive this call when they time out.
  struct State {
    explicit State(asio::any_io_executor ex) : wake(ex) {}
    std::vector<CheckResult> results;
    std::vector<bool> finished;
    std::size_t remaining = 0;
    asio::steady_timer wake;
  };
  auto state = std::make_shared<State>(executor);
  state->results.resize(checks_.size());
  state->finished.assign(checks_.size(), false);
  state->remaining = checks_.size();
  state->wake.expires_after(timeout);
  const auto started = std::chrono::steady_clock::now();

  for (std::size_t i = 0; i < checks_.size(); ++i) {
    state->results[i].name = checks_[i].name;
    asio::co_spawn(
        executor,
        [state, i, check = checks_[i].check, started]() -> asio::awaitable<void> {
          std::string failure;
          bool ok = false;
          try {
            co_await check();
            ok = true;
          } catch (const CheckFailed& e) {
            failure = e.what();
          } catch (...) {
            failure = "check failed";
          }
          if (state->finished[i]) co_return;  // already reported as timed out
          state->finished[i] = true;
          auto& r = state->results[i];
          r.ok = ok;
          r.message = std::move(failure);
          r.duration_ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                  .count();
          if (--state->remaining == 0) state->wake.cancel();
        },
        asio::detached);
  }
  if (state->remaining > 0) {
    boost::system::error_code ec;
    co_await state->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    if (state->finished[i]) continue;
    state->finished[i] = true;
    auto& r = state->results[i];
    r.ok = false;
    r.message = "timed out";
    r.duration_ms = static_cast<double>(timeout.count());
  }
  co_return state->results;
}

}  // namespace kit::health

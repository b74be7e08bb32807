#include "kit/http/pipeline.hpp"

#include <utility>

namespace kit::http {

Pipeline& Pipeline::use(std::shared_ptr<Middleware> middleware) {
  HookMiddleware* hooks = dynamic_cast<HookMiddleware*>(middleware.get());
  chain_.push_back(std::move(middleware));
  hooks_.push_back(hooks);
  run_end_.push_back(chain_.size());
  // A hook link extends the run of hook links right before it.
  if (hooks != nullptr) {
    for (std::size_t i = chain_.size() - 1; i-- > 0 && hooks_[i] != nullptr;) {
      run_end_[i] = chain_.size();
    }
  }
  return *this;
}

namespace {

// Calls finish() on hooks [0, unfinished) innermost first, however the run ends: also when its
// coroutine is destroyed while suspended in the rest of the chain (server shutdown).
struct Finisher {
  std::span<HookMiddleware* const> hooks;
  RequestContext& ctx;
  std::size_t unfinished = 0;

  void finish_down_to(std::size_t end) noexcept {
    while (unfinished > end) hooks[--unfinished]->finish(ctx);
  }
  ~Finisher() { finish_down_to(0); }
};

// The work around the coroutine's one suspension is done in plain functions: their locals
// live on the stack, not in the frame, which must stay under glibc's 1 KiB per-thread cache
// (a larger frame costs a slow malloc per request).

void call_before(HookMiddleware& hook, Request& req, RequestContext& ctx,
                 std::optional<Response>& res) {
  res = hook.before(req, ctx);
}

// Runs after()/on_error() of hooks [0, wrapped) innermost first, each followed by its finish().
void unwind(std::span<HookMiddleware* const> hooks, std::size_t wrapped, Request& req,
            RequestContext& ctx, Finisher& finisher, std::optional<Response>& res,
            std::exception_ptr& error, std::exception*& what) {
  // A hook that answered early is done before the outer ones see its response.
  finisher.finish_down_to(wrapped);
  for (std::size_t i = wrapped; i-- > 0;) {
    try {
      if (error) {
        std::optional<Response> recovered = hooks[i]->on_error(req, ctx, what);
        if (recovered) {
          res = std::move(recovered);
          error = nullptr;
          what = nullptr;
        }
      } else {
        hooks[i]->after(req, ctx, *res);
      }
    } catch (std::exception& e) {
      error = std::current_exception();
      what = &e;
    } catch (...) {
      error = std::current_exception();
      what = nullptr;
    }
    finisher.finish_down_to(i);
  }
}

}  // namespace

boost::asio::awaitable<Response> Pipeline::run_hooks(std::span<HookMiddleware* const> hooks,
                                                     Request& req, RequestContext& ctx, Next rest) {
  Finisher finisher{hooks, ctx};
  std::optional<Response> res;
  std::exception_ptr error;
  std::exception* what = nullptr;  // the object `error` holds, when a std::exception
  std::size_t wrapped = 0;         // hooks whose after()/on_error() apply: [0, wrapped)
  try {
    while (finisher.unfinished < hooks.size()) {
      HookMiddleware* const hook = hooks[finisher.unfinished];
      call_before(*hook, req, ctx, res);
      if (!res && hook->needs_wait(req, ctx)) res = co_await hook->wait(req, ctx);
      ++finisher.unfinished;
      if (res) break;
      wrapped = finisher.unfinished;
    }
    if (!res) res.emplace(co_await rest(req, ctx));
  } catch (std::exception& e) {
    error = std::current_exception();
    what = &e;
  } catch (...) {
    error = std::current_exception();
  }
  unwind(hooks, wrapped, req, ctx, finisher, res, error, what);
  if (error) std::rethrow_exception(error);
  co_return std::move(*res);
}

boost::asio::awaitable<std::optional<Response>> HookMiddleware::wait(Request&, RequestContext&) {
  co_return std::nullopt;
}

boost::asio::awaitable<Response> HookMiddleware::handle(Request& req, RequestContext& ctx,
                                                        Next next) {
  HookMiddleware* const self = this;
  const std::span<HookMiddleware* const> hooks(&self, 1);
  co_return co_await Pipeline::run_hooks(hooks, req, ctx, next);
}

}  // namespace kit::http

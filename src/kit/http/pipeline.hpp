#pragma once
// The middleware chain. Each middleware gets the request, the context and `next` (the rest of
// the chain); adding a link is one `use()` call in the application factory. The terminal
// handler is normally the router; the server passes a different one to answer protocol errors
// (413, 431, 400) through the same chain so they get request ids, logs and headers too.
//
// Two kinds of links:
// - Middleware: a coroutine that awaits `next` itself (it may suspend, e.g. for a limiter).
//   One that only sometimes needs to await may return `next(req, ctx)` directly, without a
//   frame of its own.
// - HookMiddleware: work before the rest of the chain, on its response, and on its exception,
//   none of which suspends. The pipeline runs consecutive hook links in ONE coroutine frame,
//   instead of a frame, a Response move and an exception rethrow per link (frames and their
//   allocations were a fifth of the cost of a request).
// Both behave exactly like nested calls: a link's `after` sees the response the inner links
// made, an exception skips the `after` of the links it passes and reaches their `on_error`.
// The pipeline and its links must outlive the io_contexts that run its requests: a request
// destroyed while suspended still calls its links' finish().
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kit/http/request_context.hpp"
#include "kit/http/types.hpp"

namespace kit::http {

class Pipeline;

class Next {
 public:
  Next(const Pipeline& pipeline, std::size_t index, const Handler& terminal)
      : pipeline_(&pipeline), index_(index), terminal_(&terminal) {}
  boost::asio::awaitable<Response> operator()(Request& req, RequestContext& ctx) const;

 private:
  const Pipeline* pipeline_;
  std::size_t index_;
  const Handler* terminal_;
};

class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual boost::asio::awaitable<Response> handle(Request& req, RequestContext& ctx, Next next) = 0;
};

// A link that does not suspend, except maybe once before the rest of the chain. For one
// request the pipeline calls, in this order:
//   before()                        — a response returned here answers without the inner links
//                                     (and without this link's after()/on_error()),
//   wait()                          — awaited when before() returned nullopt and needs_wait()
//                                     says so (a rate limiter); it may answer like before(),
//   after() or on_error()           — on what the inner links returned or threw,
//   finish()                        — always, once before() (and wait()) returned, also when the
//   request's
//                                     coroutine is destroyed while suspended (shutdown).
// on_error() may return a response to answer with instead of the exception; nullopt lets the
// exception go on outwards. `error` is the exception when it derives from std::exception, else
// null; a hook may add to it (like `catch (E& e) { ...; throw; }`, without the rethrow). An
// exception thrown by a hook goes outwards like one thrown by an inner link.
class HookMiddleware : public Middleware {
 public:
  virtual std::optional<Response> before(Request&, RequestContext&) { return std::nullopt; }
  virtual bool needs_wait(Request&, RequestContext&) { return false; }
  virtual boost::asio::awaitable<std::optional<Response>> wait(Request&, RequestContext&);
  virtual void after(Request&, RequestContext&, Response&) {}
  virtual std::optional<Response> on_error(Request&, RequestContext&, std::exception*) {
    return std::nullopt;
  }
  virtual void finish(RequestContext&) noexcept {}

  // The same behaviour as a nested coroutine (a pipeline never calls this for hook links).
  boost::asio::awaitable<Response> handle(Request& req, RequestContext& ctx, Next next) final;
};

class Pipeline {
 public:
  Pipeline& use(std::shared_ptr<Middleware> middleware);
  boost::asio::awaitable<Response> handle(Request& req, RequestContext& ctx,
                                          const Handler& terminal) const {
    return Next(*this, 0, terminal)(req, ctx);
  }

 private:
  friend class Next;
  friend class HookMiddleware;
  // Runs `hooks` (outermost first) around `rest`, which is awaited at most once.
  static boost::asio::awaitable<Response> run_hooks(std::span<HookMiddleware* const> hooks,
                                                    Request& req, RequestContext& ctx, Next rest);

  std::vector<std::shared_ptr<Middleware>> chain_;
  std::vector<HookMiddleware*> hooks_;  // per link: the link when it is a hook link, else null
  std::vector<std::size_t> run_end_;    // per link: the first link after its run of hook links
};

inline boost::asio::awaitable<Response> Next::operator()(Request& req, RequestContext& ctx) const {
  const Pipeline& p = *pipeline_;
  if (index_ < p.chain_.size()) {
    if (p.hooks_[index_] != nullptr) {
      const std::size_t end = p.run_end_[index_];
      return Pipeline::run_hooks(
          std::span<HookMiddleware* const>(p.hooks_.data() + index_, end - index_), req, ctx,
          Next(p, end, *terminal_));
    }
    return p.chain_[index_]->handle(req, ctx, Next(p, index_ + 1, *terminal_));
  }
  return (*terminal_)(req, ctx);
}

}  // namespace kit::http

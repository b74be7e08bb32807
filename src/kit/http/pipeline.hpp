#pragma once
// The middleware chain. Each middleware gets the request, the context and `next` (the rest of
// the chain); adding a link is one `use()` call in the application factory. The terminal
// handler is normally the router; the server passes a different one to answer protocol errors
// (413, 431, 400) through the same chain so they get request ids, logs and headers too.
#include <memory>
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

class Pipeline {
 public:
  Pipeline& use(std::shared_ptr<Middleware> middleware) {
    chain_.push_back(std::move(middleware));
    return *this;
  }
  boost::asio::awaitable<Response> handle(Request& req, RequestContext& ctx,
                                          const Handler& terminal) const {
    return Next(*this, 0, terminal)(req, ctx);
  }

 private:
  friend class Next;
  std::vector<std::shared_ptr<Middleware>> chain_;
};

inline boost::asio::awaitable<Response> Next::operator()(Request& req, RequestContext& ctx) const {
  if (index_ < pipeline_->chain_.size()) {
    return pipeline_->chain_[index_]->handle(req, ctx, Next(*pipeline_, index_ + 1, *terminal_));
  }
  return (*terminal_)(req, ctx);
}

}  // namespace kit::http

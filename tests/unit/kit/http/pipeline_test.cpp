// kit::http::Pipeline: hook links (run together in one coroutine frame) must behave exactly like
// nested coroutine links — order of before/after, early answers, exceptions reaching on_error of
// the outer links only, finish() however the request ends (also when its coroutine is destroyed
// while suspended), and mixing with coroutine links.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kit/http/pipeline.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using namespace kit::http;  // the types under test

using Trace = std::vector<std::string>;

// Records every hook call as "<name>.<hook>" and can be told to answer, throw or recover.
class Recorder final : public HookMiddleware {
 public:
  Recorder(std::string name, Trace& trace) : name_(std::move(name)), trace_(trace) {}

  bool answer_early = false;
  bool throw_in_before = false;
  bool throw_in_after = false;
  bool recover = false;

  std::optional<Response> before(Request&, RequestContext&) override {
    trace_.push_back(name_ + ".before");
    if (throw_in_before) throw std::runtime_error(name_ + " before failed");
    if (answer_early) return Response{Status::no_content, 11};
    return std::nullopt;
  }
  void after(Request&, RequestContext&, Response& res) override {
    trace_.push_back(name_ + ".after");
    if (throw_in_after) throw std::runtime_error(name_ + " after failed");
    res.insert("X-Seen-By", name_);
  }
  std::optional<Response> on_error(Request&, RequestContext&, std::exception* e) override {
    trace_.push_back(name_ + ".on_error(" + (e != nullptr ? e->what() : "?") + ")");
    if (recover) return Response{Status::internal_server_error, 11};
    return std::nullopt;
  }
  void finish(RequestContext&) noexcept override { trace_.push_back(name_ + ".finish"); }

 private:
  std::string name_;
  Trace& trace_;
};

// A coroutine link between hook links.
class Wrapper final : public Middleware {
 public:
  explicit Wrapper(Trace& trace) : trace_(trace) {}
  asio::awaitable<Response> handle(Request& req, RequestContext& ctx, Next next) override {
    trace_.push_back("wrapper.in");
    Response res = co_await next(req, ctx);
    trace_.push_back("wrapper.out");
    co_return res;
  }

 private:
  Trace& trace_;
};

struct PipelineHooks : ::testing::Test {
  Trace trace;
  Pipeline pipeline;
  Request req{Verb::get, "/", 11};
  RequestContext ctx;

  std::shared_ptr<Recorder> add(const std::string& name) {
    auto r = std::make_shared<Recorder>(name, trace);
    pipeline.use(r);
    return r;
  }
  Handler terminal_ok() {
    return [this](Request&, RequestContext&) -> asio::awaitable<Response> {
      trace.push_back("handler");
      co_return Response{Status::ok, 11};
    };
  }
  Handler terminal_throwing() {
    return [this](Request&, RequestContext&) -> asio::awaitable<Response> {
      trace.push_back("handler");
      throw std::logic_error("handler failed");
      co_return Response{};
    };
  }
  Response run(const Handler& terminal) {
    return test_support::run_coroutine(pipeline.handle(req, ctx, terminal));
  }
};

TEST_F(PipelineHooks, HooksNestLikeCoroutines) {
  add("a");
  add("b");
  const Response res = run(terminal_ok());
  EXPECT_EQ(trace, (Trace{"a.before", "b.before", "handler", "b.after", "b.finish", "a.after",
                          "a.finish"}));
  // b decorated first, then a: the order nested links would give.
  std::vector<std::string> seen;
  for (const auto& f : res) seen.emplace_back(f.value());
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "a"}));
}

TEST_F(PipelineHooks, EarlyAnswerSkipsInnerLinksAndItsOwnAfter) {
  add("a");
  add("b")->answer_early = true;
  add("c");
  const Response res = run(terminal_ok());
  EXPECT_EQ(res.result(), Status::no_content);
  EXPECT_EQ(trace, (Trace{"a.before", "b.before", "b.finish", "a.after", "a.finish"}));
}

TEST_F(PipelineHooks, ExceptionReachesOuterOnErrorAndRecovers) {
  add("a");
  add("b")->recover = true;
  add("c");
  const Response res = run(terminal_throwing());
  EXPECT_EQ(res.result(), Status::internal_server_error);
  EXPECT_EQ(trace,
            (Trace{"a.before", "b.before", "c.before", "handler", "c.on_error(handler failed)",
                   "c.finish", "b.on_error(handler failed)", "b.finish", "a.after", "a.finish"}));
}

TEST_F(PipelineHooks, UnrecoveredExceptionLeavesThePipeline) {
  add("a");
  add("b");
  EXPECT_THROW(run(terminal_throwing()), std::logic_error);
  EXPECT_EQ(trace, (Trace{"a.before", "b.before", "handler", "b.on_error(handler failed)",
                          "b.finish", "a.on_error(handler failed)", "a.finish"}));
}

TEST_F(PipelineHooks, ThrowingBeforeIsSeenByOuterLinksOnly) {
  add("a")->recover = true;
  add("b")->throw_in_before = true;
  add("c");
  const Response res = run(terminal_ok());
  EXPECT_EQ(res.result(), Status::internal_server_error);
  EXPECT_EQ(trace, (Trace{"a.before", "b.before", "a.on_error(b before failed)", "a.finish"}));
}

TEST_F(PipelineHooks, ThrowingAfterIsSeenByOuterLinksOnly) {
  add("a")->recover = true;
  add("b")->throw_in_after = true;
  add("c");
  const Response res = run(terminal_ok());
  EXPECT_EQ(res.result(), Status::internal_server_error);
  EXPECT_EQ(trace, (Trace{"a.before", "b.before", "c.before", "handler", "c.after", "c.finish",
                          "b.after", "b.finish", "a.on_error(b after failed)", "a.finish"}));
}

TEST_F(PipelineHooks, NonStandardExceptionHasNoObject) {
  add("a")->recover = true;
  const Handler terminal = [this](Request&, RequestContext&) -> asio::awaitable<Response> {
    trace.push_back("handler");
    throw 42;
    co_return Response{};
  };
  EXPECT_EQ(run(terminal).result(), Status::internal_server_error);
  EXPECT_EQ(trace, (Trace{"a.before", "handler", "a.on_error(?)", "a.finish"}));
}

TEST_F(PipelineHooks, CoroutineLinksSplitRunsOfHooks) {
  add("a");
  pipeline.use(std::make_shared<Wrapper>(trace));
  add("b");
  run(terminal_ok());
  EXPECT_EQ(trace, (Trace{"a.before", "wrapper.in", "b.before", "handler", "b.after", "b.finish",
                          "wrapper.out", "a.after", "a.finish"}));
}

TEST_F(PipelineHooks, HookLinkCalledDirectlyBehavesTheSame) {
  Recorder alone("x", trace);
  Pipeline rest;  // empty: next() is the terminal
  const Handler terminal = terminal_ok();
  EXPECT_EQ(test_support::run_coroutine(alone.handle(req, ctx, Next(rest, 0, terminal))).result(),
            Status::ok);
  EXPECT_EQ(trace, (Trace{"x.before", "handler", "x.after", "x.finish"}));
}

TEST_F(PipelineHooks, FinishRunsWhenTheRequestIsDestroyedWhileSuspended) {
  add("a");
  add("b");
  {
    asio::io_context io;
    const Handler terminal = [this](Request&, RequestContext&) -> asio::awaitable<Response> {
      trace.push_back("handler");
      asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours(1));
      co_await forever.async_wait(asio::use_awaitable);
      co_return Response{};
    };
    asio::co_spawn(io, pipeline.handle(req, ctx, terminal), asio::detached);
    io.poll();  // runs until the handler waits
    // io (and with it the suspended request) is destroyed here, like at server shutdown.
  }
  EXPECT_EQ(trace, (Trace{"a.before", "b.before", "handler", "b.finish", "a.finish"}));
}

}  // namespace

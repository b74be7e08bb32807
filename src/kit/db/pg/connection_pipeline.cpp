// Pipeline mode of kit::db::pg::Connection (see connection.hpp for the contract).
//
// Shape: submit() sends its statement into libpq's output buffer and suspends; one flush posted
// per turn of the event loop ends the batch with a Sync and writes it; one reader coroutine per
// connection takes the results in order and hands each to its waiting coroutine; one watchdog
// per busy connection enforces the queue and run timeouts every kWatchdogTick. Everything runs
// on the connection's executor, so the state needs no lock.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/pg/connection.hpp"
#include "kit/db/pg/detail/conninfo.hpp"
#include "kit/db/pg/detail/wire.hpp"

namespace kit::db::pg {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace detail {

namespace {

// How often a busy pipeline checks its timeouts: a queue timeout fires up to this late.
constexpr auto kWatchdogTick = std::chrono::milliseconds{100};

// The coroutine waiting for one read's result, type-erased (Boost 1.74 has no
// any_completion_handler).
struct SlotWaiter {
  virtual ~SlotWaiter() = default;
  virtual void complete(std::exception_ptr error, Result result) = 0;
};

template <class Handler>
struct SlotWaiterFor final : SlotWaiter {
  explicit SlotWaiterFor(Handler&& h) : handler(std::move(h)) {}
  void complete(std::exception_ptr error, Result result) override {
    auto executor = asio::get_associated_executor(handler);
    // Posted, never run inline: the resumed coroutine may submit again, which must not happen
    // in the middle of the reader's bookkeeping.
    asio::post(executor, [h = std::move(handler), e = std::move(error),
                          r = std::move(result)]() mutable { h(std::move(e), std::move(r)); });
  }
  Handler handler;
};

}  // namespace

struct PipelineSlot {
  const Statement* statement = nullptr;  // valid until done: the caller awaits until then
  const Params* params = nullptr;
  Clock::time_point submitted;
  std::chrono::milliseconds queue_timeout{0};
  kit::async::Deadline request_deadline;  // the caller's request gives up then
  std::unique_ptr<SlotWaiter> waiter;     // null until the caller suspends
  bool done = false;                      // the caller has (or will get) its answer
  std::exception_ptr error;               // the answer, when it came before the caller suspended
  Result result;
};

enum class EntryKind { prepare, statement, sync };

// One thing the server owes us, in the order it will answer.
struct PipelineEntry {
  explicit PipelineEntry(EntryKind k, std::shared_ptr<PipelineSlot> s = nullptr, std::string n = {})
      : kind(k), slot(std::move(s)), name(std::move(n)) {}

  EntryKind kind;
  std::shared_ptr<PipelineSlot> slot;  // statement
  std::string name;                    // prepare: the statement name
  Result result;
  std::optional<ErrorFields> error;
  bool aborted = false;  // skipped by the server: an earlier statement of its batch failed
};

struct PipelineState {
  explicit PipelineState(Connection& c) : conn(&c), watchdog(c.get_executor()) {}

  Connection* conn;                    // null once the connection left pipeline mode or died
  std::deque<PipelineEntry> expected;  // what the server owes us, oldest first
  // Statements the server skipped because an earlier one of their batch failed. They are sent
  // again once that batch's Sync has come back: before it, libpq would report anything sent
  // as skipped as well.
  std::vector<std::shared_ptr<PipelineSlot>> retry;
  std::size_t unsynced = 0;  // reads sent since the last Sync
  bool flush_posted = false;
  bool reader_running = false;
  bool writer_running = false;
  bool watchdog_running = false;
  Clock::time_point head_since;  // when the entry at the front of `expected` became the head
  std::chrono::milliseconds run_timeout{0};
  std::function<void()> on_drained;
  asio::steady_timer watchdog;

  static void finish(PipelineSlot& slot, std::exception_ptr error, Result result) {
    if (slot.done) return;
    slot.done = true;
    slot.statement = nullptr;
    slot.params = nullptr;
    if (slot.waiter) {
      auto waiter = std::move(slot.waiter);
      waiter->complete(std::move(error), std::move(result));
    } else {
      slot.error = std::move(error);
      slot.result = std::move(result);
    }
  }

  static void notify_drained(const std::shared_ptr<PipelineState>& self) {
    if (!self->on_drained || !self->conn) return;
    asio::post(self->conn->get_executor(), [self] {
      if (!self->conn || !self->expected.empty() || !self->retry.empty() || !self->on_drained) {
        return;
      }
      auto fn =
          self->on_drained;  // the call may destroy the connection and with it this state's owner
      fn();
    });
  }

  // poll(2) first: Asio's reactor is edge-triggered and async_wait does not try first, so an
  // edge that came before the wait was registered would be lost (see connection.cpp).
  static awaitable<bool> wait_socket(std::shared_ptr<PipelineState> self, bool write) {
    auto& socket = *self->conn->socket_;
    pollfd pfd{socket.native_handle(), static_cast<short>(write ? POLLOUT : POLLIN), 0};
    if (::poll(&pfd, 1, 0) > 0) co_return true;
    boost::system::error_code ec;
    co_await socket.async_wait(write ? asio::posix::stream_descriptor::wait_write
                                     : asio::posix::stream_descriptor::wait_read,
                               asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  static awaitable<void> read_loop(std::shared_ptr<PipelineState> self) {
    for (;;) {
      Connection* c = self->conn;
      if (!c || c->broken() || c->pipeline_dispatch(*self)) break;
      const bool ready = co_await wait_socket(self, false);
      c = self->conn;
      if (!c || c->broken()) break;
      if (!ready) {
        c->pipeline_fail("waiting for the socket failed");
        break;
      }
      if (!PQconsumeInput(c->conn_)) {
        c->pipeline_fail("reading failed: " + c->libpq_error());
        break;
      }
    }
    self->reader_running = false;
  }

  // The rest of a batch that did not fit into the socket buffer.
  static awaitable<void> write_loop(std::shared_ptr<PipelineState> self) {
    for (;;) {
      Connection* c = self->conn;
      if (!c || c->broken()) break;
      const int pending = PQflush(c->conn_);
      if (pending < 0) {
        c->pipeline_fail("sending failed: " + c->libpq_error());
        break;
      }
      if (pending == 0) break;
      const bool ready = co_await wait_socket(self, true);
      if (!ready && self->conn && !self->conn->broken()) {
        self->conn->pipeline_fail("waiting for the socket failed");
        break;
      }
    }
    self->writer_running = false;
  }

  static awaitable<void> watch(std::shared_ptr<PipelineState> self) {
    while (self->conn && !self->expected.empty()) {
      self->watchdog.expires_after(kWatchdogTick);
      boost::system::error_code ec;
      co_await self->watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
      Connection* c = self->conn;
      if (!c || c->broken() || self->expected.empty()) break;
      const auto now = Clock::now();
      if (self->run_timeout.count() > 0 && now - self->head_since > self->run_timeout) {
        c->pipeline_fail("no answer from the database before the deadline");
        break;
      }
      // Reads behind the first one wait for their turn, as a caller waits for a free
      // connection: past the queue timeout they get the pool's answer (503).
      for (auto& slot : self->retry) expire(*slot, now);
      bool head = true;
      for (auto& entry : self->expected) {
        if (entry.kind != EntryKind::statement) continue;
        if (head) {
          head = false;
          give_up_at_deadline(*entry.slot);  // running: only its request's deadline ends the wait
          continue;
        }
        expire(*entry.slot, now);
      }
    }
    self->watchdog_running = false;
  }

  static void give_up_at_deadline(PipelineSlot& slot) {
    if (!slot.done && slot.request_deadline.passed()) {
      finish(slot, std::make_exception_ptr(kit::async::DeadlineExceeded()), Result{});
    }
  }

  static void expire(PipelineSlot& slot, Clock::time_point now) {
    give_up_at_deadline(slot);
    if (slot.done || now - slot.submitted <= slot.queue_timeout) return;
    finish(slot,
           std::make_exception_ptr(QueueTimeout("no database connection free within " +
                                                std::to_string(slot.queue_timeout.count()) +
                                                " ms (pipelined)")),
           Result{});
  }
};

// Answers everything still owed with UnavailableError(reason) and forgets it.
void fail_outstanding(PipelineState& state, const std::string& reason) noexcept {
  std::deque<PipelineEntry> entries;
  entries.swap(state.expected);
  std::vector<std::shared_ptr<PipelineSlot>> skipped;
  skipped.swap(state.retry);
  state.unsynced = 0;
  const auto error = std::make_exception_ptr(UnavailableError(reason));
  for (auto& entry : entries) {
    if (entry.kind == EntryKind::statement) PipelineState::finish(*entry.slot, error, Result{});
  }
  for (auto& slot : skipped) PipelineState::finish(*slot, error, Result{});
}

template <class Token>
auto async_result_of(std::shared_ptr<PipelineSlot> slot, Token&& token) {
  return asio::async_initiate<Token, void(std::exception_ptr, Result)>(
      [slot = std::move(slot)](auto handler) mutable {
        auto waiter = std::make_unique<SlotWaiterFor<decltype(handler)>>(std::move(handler));
        if (slot->done) {
          waiter->complete(std::move(slot->error), std::move(slot->result));
          return;
        }
        slot->waiter = std::move(waiter);
      },
      token);
}

}  // namespace detail

using detail::EntryKind;
using detail::fail_outstanding;
using detail::PipelineEntry;
using detail::PipelineSlot;
using detail::PipelineState;

void Connection::enter_pipeline() {
  if (pipeline_) return;
  if (broken()) throw UnavailableError("connection to " + endpoint_ + " is closed");
  if (PQenterPipelineMode(conn_) != 1) {
    fail_lost("cannot enter pipeline mode: " + libpq_error());
  }
  pipeline_ = std::make_shared<PipelineState>(*this);
}

void Connection::leave_pipeline() {
  if (!pipeline_) return;
  if (!broken() && PQexitPipelineMode(conn_) != 1) {
    mark_broken("cannot leave pipeline mode: " + libpq_error());
  }
  pipeline_->conn = nullptr;
  pipeline_->watchdog.cancel();
  pipeline_.reset();
}

bool Connection::pipeline_drained() const noexcept {
  return !pipeline_ || (pipeline_->expected.empty() && pipeline_->retry.empty());
}

std::size_t Connection::pipeline_load() const noexcept {
  return pipeline_ ? pipeline_->expected.size() + pipeline_->retry.size() : 0;
}

void Connection::on_pipeline_drained(std::function<void()> fn) {
  if (pipeline_) pipeline_->on_drained = std::move(fn);
}

awaitable<Result> Connection::submit(const Statement& statement, const Params& params,
                                     std::chrono::milliseconds queue_timeout,
                                     std::chrono::milliseconds run_timeout,
                                     kit::async::Deadline request_deadline) {
  request_deadline.check();
  if (broken()) throw UnavailableError("connection to " + endpoint_ + " is closed");
  if (!pipeline_) throw std::logic_error("submit() outside pipeline mode");
  auto state = pipeline_;  // keeps the state alive while this coroutine waits
  auto slot = std::make_shared<PipelineSlot>();
  slot->statement = &statement;
  slot->params = &params;
  slot->submitted = Clock::now();
  slot->queue_timeout = queue_timeout;
  slot->request_deadline = request_deadline;
  state->run_timeout = run_timeout;
  pipeline_send(*state, slot);
  auto answer = detail::async_result_of(std::move(slot), use_awaitable);
  co_return co_await std::move(answer);
}

void Connection::pipeline_send(PipelineState& state, std::shared_ptr<PipelineSlot> slot) {
  const Statement& statement = *slot->statement;
  const bool was_idle = state.expected.empty();
  // A write gets a batch of its own (Syncs before and after it): nothing else can roll it back
  // or be rolled back with it, and no read of another batch is skipped because it failed.
  const bool isolated = !statement.read_only;
  bool sent = true;
  if (isolated && state.unsynced > 0) {
    state.unsynced = 0;
    sent = PQpipelineSync(conn_) == 1;
    if (sent) state.expected.push_back(PipelineEntry(EntryKind::sync));
  }
  if (sent && !prepared_.contains(statement.name)) {
    sent = PQsendPrepare(conn_, statement.name.c_str(), statement.sql.c_str(), 0, nullptr) == 1;
    if (sent) {
      state.expected.push_back(PipelineEntry(EntryKind::prepare, nullptr, statement.name));
      prepared_.insert(statement.name);
    }
  }
  if (sent) {
    const detail::ParamArrays p(*slot->params);
    sent = PQsendQueryPrepared(conn_, statement.name.c_str(), p.count(), p.data(), nullptr, nullptr,
                               0) == 1;
  }
  if (!sent) {
    const std::string reason = "sending failed: " + libpq_error();
    PipelineState::finish(
        *slot, std::make_exception_ptr(UnavailableError(endpoint_ + ": " + reason)), Result{});
    pipeline_fail(reason);
    return;
  }
  if (was_idle) state.head_since = Clock::now();
  state.expected.push_back(PipelineEntry(EntryKind::statement, std::move(slot)));
  ++state.unsynced;
  if (isolated) {
    pipeline_flush(state);
    if (broken()) return;
  } else if (!state.flush_posted) {
    state.flush_posted = true;
    asio::post(executor_, [self = pipeline_] {
      self->flush_posted = false;
      if (self->conn) self->conn->pipeline_flush(*self);
    });
  }
  if (!state.reader_running) {
    state.reader_running = true;
    asio::co_spawn(executor_, PipelineState::read_loop(pipeline_), asio::detached);
  }
  if (!state.watchdog_running) {
    state.watchdog_running = true;
    asio::co_spawn(executor_, PipelineState::watch(pipeline_), asio::detached);
  }
}

void Connection::pipeline_flush(PipelineState& state) {
  if (broken() || state.unsynced == 0) return;
  state.unsynced = 0;
  // PQpipelineSync writes what the socket takes; the rest waits for it to become writable.
  if (PQpipelineSync(conn_) != 1) {
    pipeline_fail("sending failed: " + libpq_error());
    return;
  }
  state.expected.push_back(PipelineEntry(EntryKind::sync));
  if (PQflush(conn_) != 0 && !state.writer_running && !broken()) {
    state.writer_running = true;
    asio::co_spawn(executor_, PipelineState::write_loop(pipeline_), asio::detached);
  }
  // The reader stops when nothing is expected, which happens while skipped statements wait
  // for this Sync.
  if (!state.reader_running && !broken()) {
    state.reader_running = true;
    asio::co_spawn(executor_, PipelineState::read_loop(pipeline_), asio::detached);
  }
}

bool Connection::pipeline_dispatch(PipelineState& state) {
  while (!state.expected.empty()) {
    if (broken()) return true;
    if (PQisBusy(conn_)) return false;
    pipeline_handle(state, PQgetResult(conn_));
  }
  PipelineState::notify_drained(pipeline_);
  return true;
}

void Connection::pipeline_handle(PipelineState& state, pg_result* raw) {
  PipelineEntry& head = state.expected.front();
  if (!raw) {
    // The end of the head statement's results.
    if (head.kind == EntryKind::sync) {
      pipeline_fail("pipeline out of step (end of results where a Sync was expected)");
      return;
    }
    PipelineEntry entry = std::move(head);
    state.expected.pop_front();
    state.head_since = Clock::now();
    if (entry.kind == EntryKind::prepare) {
      if (entry.error || entry.aborted) prepared_.erase(entry.name);
      // A failed PREPARE is the failure of the read it was sent for (next in line), which the
      // server skips: report the PREPARE's error instead of sending the read again.
      if (entry.error && !state.expected.empty() &&
          state.expected.front().kind == EntryKind::statement && !state.expected.front().error) {
        state.expected.front().error = entry.error;
      }
      return;
    }
    PipelineSlot& slot = *entry.slot;
    if (slot.done) return;  // abandoned after its queue timeout: nobody wants the answer
    if (entry.error && entry.error->sqlstate == "26000") {
      // "prepared statement does not exist": sent in a later batch than its PREPARE, which
      // failed (e.g. cancelled by statement_timeout while waiting for a lock). It never ran:
      // prepare it again (unless a new PREPARE is already on its way) and send it again.
      const std::string& name = slot.statement->name;
      const bool preparing = std::any_of(
          state.expected.begin(), state.expected.end(),
          [&name](const auto& e) { return e.kind == EntryKind::prepare && e.name == name; });
      if (!preparing) prepared_.erase(name);
      state.retry.push_back(std::move(entry.slot));
    } else if (entry.error) {
      PipelineState::finish(slot, detail::statement_error(*entry.error, secrets_), Result{});
    } else if (entry.aborted) {
      state.retry.push_back(std::move(entry.slot));  // skipped, never ran: sent after the Sync
    } else {
      PipelineState::finish(slot, nullptr, std::move(entry.result));
    }
    return;
  }
  Result result(raw);
  switch (PQresultStatus(raw)) {
    case PGRES_PIPELINE_SYNC:
      if (head.kind != EntryKind::sync) {
        pipeline_fail("pipeline out of step (a Sync where a statement was expected)");
        return;
      }
      state.expected.pop_front();
      state.head_since = Clock::now();
      if (!state.retry.empty()) {
        std::vector<std::shared_ptr<PipelineSlot>> skipped;
        skipped.swap(state.retry);
        for (auto& slot : skipped) {
          if (broken()) {
            PipelineState::finish(
                *slot, std::make_exception_ptr(UnavailableError(endpoint_ + ": connection lost")),
                Result{});
          } else if (!slot->done) {
            pipeline_send(state, std::move(slot));
          }
        }
      }
      return;
    case PGRES_PIPELINE_ABORTED:
      head.aborted = true;
      return;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
      head.result = std::move(result);
      return;
    case PGRES_FATAL_ERROR: {
      detail::ErrorFields error = detail::error_fields(raw);
      if (PQstatus(conn_) != CONNECTION_OK || detail::is_connection_failure(error.sqlstate)) {
        pipeline_fail("connection lost (" + error.sqlstate + "): " + error.message);
        return;
      }
      if (!head.error) head.error = std::move(error);
      return;
    }
    default:
      pipeline_fail(std::string("unexpected result in pipeline mode: ") +
                    PQresStatus(PQresultStatus(raw)));
      return;
  }
}

void Connection::pipeline_fail(std::string reason) noexcept {
  reason = detail::redact(std::move(reason), secrets_);
  mark_broken(reason);
  close();
  if (!pipeline_) return;
  auto state = pipeline_;
  fail_outstanding(*state, endpoint_ + ": " + reason);
  PipelineState::notify_drained(state);
}

void Connection::pipeline_abandon() noexcept {
  if (!pipeline_) return;
  auto state = pipeline_;
  fail_outstanding(*state, endpoint_ + ": connection closed");
  state->conn = nullptr;
  state->watchdog.cancel();
  pipeline_.reset();
}

}  // namespace kit::db::pg

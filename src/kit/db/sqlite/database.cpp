#include "kit/db/sqlite/database.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/errors.hpp"

namespace kit::db::sqlite {
namespace {

void create_parent_folder(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    throw UnavailableError("cannot create the folder of the SQLite database: " + ec.message());
  }
}

}  // namespace

bool is_memory_path(std::string_view path) noexcept {
  return path == ":memory:" || path.starts_with("file::memory:");
}

Database::CallGuard::CallGuard(Database& db) : db_(db) {
  db_.in_flight_.fetch_add(1, std::memory_order_acq_rel);
  if (const State state = db_.state_.load(std::memory_order_acquire); state != State::open) {
    db_.in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    throw UnavailableError(state == State::closed ? "the SQLite database is closed"
                                                  : "the SQLite database is not open yet");
  }
}

Database::CallGuard::~CallGuard() {
  db_.in_flight_.fetch_sub(1, std::memory_order_acq_rel);
}

Database::Database(Options options)
    : options_(std::move(options)),
      memory_(is_memory_path(options_.path)),
      reader_count_(memory_ ? 0 : options_.readers),
      writer_pool_(1, options_.max_queue) {
  if (reader_count_ > 0) {
    reader_pool_ = std::make_unique<kit::async::WorkerPool>(reader_count_, options_.max_queue);
  }
  if (options_.metrics != nullptr) {
    wait_ = &kit::metrics::db_pool_wait_histogram(*options_.metrics);
    metrics_ = kit::metrics::register_db_pool_gauges(
        *options_.metrics,
        "SQLite connections by state: one writer plus read-only readers, each used by its own "
        "worker thread; in_use = running a call, idle = free; connecting is always 0.",
        [this] { return pool_reading(); });
  }
}

kit::metrics::DbPoolReading Database::pool_reading() const noexcept {
  // WorkerPool::pending() counts calls queued or running; each worker runs one at a time.
  const auto split = [](std::size_t pending, std::size_t workers) {
    return std::pair{std::min(pending, workers), pending - std::min(pending, workers)};
  };
  const auto [writer_busy, writer_queued] = split(writer_pool_.pending(), 1);
  const auto [readers_busy, readers_queued] =
      split(reader_pool_ ? reader_pool_->pending() : 0, reader_count_);
  const std::size_t total = 1 + reader_count_;
  const std::size_t busy = writer_busy + readers_busy;
  return kit::metrics::DbPoolReading{.idle = static_cast<double>(total - busy),
                                     .in_use = static_cast<double>(busy),
                                     .connecting = 0,
                                     .waiting = static_cast<double>(writer_queued + readers_queued),
                                     .max = static_cast<double>(total)};
}

Database::~Database() {
  // Join the workers before the connections they use are destroyed.
  if (reader_pool_) reader_pool_->stop();
  writer_pool_.stop();
}

boost::asio::awaitable<std::unique_ptr<Database>> Database::open(Options options) {
  auto db = std::make_unique<Database>(std::move(options));
  co_await db->start();
  co_return db;
}

boost::asio::awaitable<void> Database::start() {
  if (options_.path.empty()) throw UnavailableError("no SQLite database path configured");
  if (state_.load(std::memory_order_acquire) != State::created) co_return;
  co_await writer_pool_.run([this] {
    if (!memory_ && !options_.path.starts_with("file:")) create_parent_folder(options_.path);
    ConnectionOptions writer_options;
    writer_options.busy_timeout = options_.busy_timeout;
    writer_ = std::make_unique<Connection>(options_.path, writer_options);
    if (options_.on_connect) options_.on_connect(*writer_);
  });
  // Readers are opened after the writer has switched the file to WAL (a persistent setting).
  for (std::size_t i = 0; i < reader_count_; ++i) {
    co_await reader_pool_->run([this] {
      ConnectionOptions reader_options;
      reader_options.busy_timeout = options_.busy_timeout;
      reader_options.read_only = true;
      reader_options.wal = false;
      auto reader = std::make_unique<Connection>(options_.path, reader_options);
      if (options_.on_connect) options_.on_connect(*reader);
      give_back_reader(std::move(reader));
    });
  }
  State created = State::created;  // a close() meanwhile wins
  state_.compare_exchange_strong(created, State::open, std::memory_order_acq_rel);
}

std::unique_ptr<Connection> Database::take_reader() {
  std::unique_lock lock(readers_mutex_);
  // The pool has as many threads as readers, so a job always finds one; waiting is only a guard.
  reader_free_.wait(lock, [this] { return !free_readers_.empty(); });
  auto connection = std::move(free_readers_.back());
  free_readers_.pop_back();
  return connection;
}

void Database::give_back_reader(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(readers_mutex_);
    free_readers_.push_back(std::move(connection));
  }
  reader_free_.notify_one();
}

kit::trace::ChildSpan Database::span(const kit::async::Deadline& deadline, std::string operation) {
  if (deadline.trace() == nullptr) return {};
  kit::trace::ChildSpan span(deadline.trace(), operation, kit::trace::SpanKind::client);
  span.attribute("db.system.name", "sqlite");
  span.attribute("db.operation.name", operation);
  return span;
}

kit::trace::ChildSpan Database::statement_span(const kit::async::Deadline& deadline,
                                               std::string_view sql) {
  if (deadline.trace() == nullptr) return {};
  return span(deadline, sql_operation(sql));
}

boost::asio::awaitable<Rows> Database::query(std::string sql, std::vector<Value> params,
                                             kit::async::Deadline deadline) {
  kit::trace::ChildSpan traced = statement_span(deadline, sql);
  try {
    co_return co_await on_reader([&](Connection& c) { return c.query(sql, params); }, deadline);
  } catch (const std::exception& e) {
    fail_span(traced, e);
    throw;
  }
}

boost::asio::awaitable<std::int64_t> Database::execute(std::string sql, std::vector<Value> params,
                                                       kit::async::Deadline deadline) {
  kit::trace::ChildSpan traced = statement_span(deadline, sql);
  try {
    co_return co_await on_writer([&](Connection& c) { return c.execute(sql, params); }, deadline);
  } catch (const std::exception& e) {
    fail_span(traced, e);
    throw;
  }
}

boost::asio::awaitable<Rows> Database::execute_returning(std::string sql, std::vector<Value> params,
                                                         kit::async::Deadline deadline) {
  kit::trace::ChildSpan traced = statement_span(deadline, sql);
  try {
    co_return co_await on_writer([&](Connection& c) { return c.query(sql, params); }, deadline);
  } catch (const std::exception& e) {
    fail_span(traced, e);
    throw;
  }
}

boost::asio::awaitable<void> Database::ping() {
  const Rows rows = co_await query("SELECT 1");
  if (rows.size() != 1 || rows[0].int64(0) != 1) {
    throw UnavailableError("SQLite ping returned an unexpected result");
  }
}

boost::asio::awaitable<void> Database::close() {
  if (state_.exchange(State::closed, std::memory_order_acq_rel) == State::closed) co_return;
  // Requests are drained before the pools close (docs/operations.md "Graceful shutdown (drain)"),
  // so this wait is normally empty.
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (in_flight_.load(std::memory_order_acquire) > 0) {
    timer.expires_after(std::chrono::milliseconds{5});
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_await writer_pool_.run([this] {
    std::lock_guard lock(readers_mutex_);
    free_readers_.clear();
    writer_.reset();  // last: closing the last connection checkpoints and removes the -wal file
  });
}

void Database::begin(Connection& c) {
  c.execute_script("BEGIN IMMEDIATE");
}

void Database::commit(Connection& c) {
  c.execute_script("COMMIT");
}

void Database::rollback_quietly(Connection& c) noexcept {
  if (!c.in_transaction()) return;
  try {
    c.execute_script("ROLLBACK");
  } catch (...) {
    // Nothing better to do: the original error is the one worth reporting.
  }
}

}  // namespace kit::db::sqlite

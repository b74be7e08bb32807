// The outbox dispatcher's rules (docs/events.md "Delivery", "Metrics and logs"), round by round
// against an in-memory store that keeps the kit::outbox::Store contract and destinations whose
// answers each test scripts. Time is the dispatcher's injectable clock, moved by the test; only
// the circuit breaker reads the steady clock, so the tests that wait for it to half-open use an
// `open_for` of a few milliseconds and sleep that long.
#include "kit/outbox/dispatcher.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/metrics/registry.hpp"
#include "kit/outbox/message.hpp"
#include "kit/outbox/store.hpp"
#include "tests/support/exposition_parser.hpp"
#include "tests/support/run_coroutine.hpp"

// GCC 12 reports a false -Wmismatched-new-delete in coroutine ramps: Asio's frame operator new
// (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using kit::outbox::Claimed;
using kit::outbox::Delivery;
using kit::outbox::Dispatcher;
using kit::outbox::DispatcherOptions;
using kit::outbox::Timestamp;

// 2026-12-07T12:00:00Z: when the tests' rows are written.
const Timestamp kT0{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} +
                    std::chrono::hours{12}};

std::string uuid(std::int64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012lld", static_cast<long long>(n));
  return buf;
}

// The outbox table in memory, keeping the Store contract: claim hands out due, pending, unleased
// rows, only the head pending row of each (destination, ordering key), oldest first, leased until
// now + lease and with attempts counted; marks change nothing unless the row's lease is the
// caller's. Tests read rows as stored and can make the store fail like a database that is down.
class FakeStore final : public kit::outbox::Store {
 public:
  struct Row {
    std::int64_t seq = 0;
    std::string id = {};
    std::string destination = {};
    std::string ordering_key = {};
    std::string type = {};
    std::string payload = {};
    std::string state = "pending";  // pending, delivered, dead
    Timestamp created_at{};
    Timestamp next_attempt_at{};
    int attempts = 0;
    std::optional<Timestamp> claimed_until = {};
    std::optional<Timestamp> finished_at = {};
    std::optional<std::string> last_error = {};
  };

  // Writes a pending row, due at once; returns its seq.
  std::int64_t add(std::string destination, std::string key, Timestamp created_at) {
    const std::int64_t seq = next_seq_++;
    Row row;
    row.seq = seq;
    row.id = uuid(seq);
    row.destination = std::move(destination);
    row.ordering_key = std::move(key);
    row.type = "user.registered";
    row.payload = "{\"n\":" + std::to_string(seq) + "}";
    row.created_at = created_at;
    row.next_attempt_at = created_at;
    rows_.emplace(seq, std::move(row));
    return seq;
  }
  Row& row(std::int64_t seq) { return rows_.at(seq); }
  bool has(std::int64_t seq) const { return rows_.count(seq) != 0; }
  std::size_t pending_count() const {
    std::size_t n = 0;
    for (const auto& [seq, r] : rows_) n += r.state == "pending" ? 1 : 0;
    return n;
  }

  asio::awaitable<std::vector<Claimed>> claim(std::string_view destination, std::size_t limit,
                                              Timestamp now,
                                              std::chrono::milliseconds lease) override {
    claim_limits.push_back(limit);
    if (fail_claim) throw std::runtime_error("database down");
    std::vector<Claimed> out;
    std::set<std::string> held;  // keys with an earlier pending row: their later rows wait
    for (auto& [seq, r] : rows_) {
      if (out.size() >= limit) break;
      if (r.destination != destination || r.state != "pending") continue;
      if (!held.insert(r.ordering_key).second) continue;
      if (r.next_attempt_at > now || (r.claimed_until && *r.claimed_until > now)) continue;
      r.claimed_until = now + lease;
      ++r.attempts;
      Claimed c;
      c.seq = r.seq;
      c.id = r.id;
      c.destination = r.destination;
      c.ordering_key = r.ordering_key;
      c.type = r.type;
      c.payload = r.payload;
      c.created_at = r.created_at;
      c.attempts = r.attempts;
      c.lease_until = *r.claimed_until;
      out.push_back(std::move(c));
    }
    co_return out;
  }

  asio::awaitable<void> mark_delivered(const Claimed& claimed, Timestamp now) override {
    if (fail_marks) throw std::runtime_error("database down");
    if (Row* r = holder(claimed)) {
      r->state = "delivered";
      r->finished_at = now;
      r->claimed_until.reset();
    }
    co_return;
  }

  asio::awaitable<void> reschedule(const Claimed& claimed, Timestamp next_attempt,
                                   std::string_view error) override {
    if (fail_marks) throw std::runtime_error("database down");
    // A slow database: the breaker's steady clock moves on meanwhile.
    if (reschedule_delay > 0ms) std::this_thread::sleep_for(reschedule_delay);
    if (Row* r = holder(claimed)) {
      r->next_attempt_at = next_attempt;
      r->claimed_until.reset();
      r->last_error = std::string(error);
    }
    co_return;
  }

  asio::awaitable<void> release(const Claimed& claimed) override {
    if (fail_marks) throw std::runtime_error("database down");
    if (Row* r = holder(claimed)) {
      r->claimed_until.reset();
      --r->attempts;
      ++releases;
    }
    co_return;
  }

  asio::awaitable<void> mark_dead(const Claimed& claimed, Timestamp now,
                                  std::string_view error) override {
    if (fail_marks) throw std::runtime_error("database down");
    if (Row* r = holder(claimed)) {
      r->state = "dead";
      r->finished_at = now;
      r->claimed_until.reset();
      r->last_error = std::string(error);
    }
    co_return;
  }

  asio::awaitable<std::vector<std::pair<std::string, std::int64_t>>> expire(
      Timestamp created_before, Timestamp now) override {
    ++expire_calls;
    std::map<std::string, std::int64_t> counts;
    for (auto& [seq, r] : rows_) {
      if (r.state != "pending" || r.created_at >= created_before) continue;
      if (r.claimed_until && *r.claimed_until > now) continue;
      r.state = "dead";
      r.finished_at = now;
      r.claimed_until.reset();
      r.last_error = "expired";
      ++counts[r.destination];
    }
    co_return std::vector<std::pair<std::string, std::int64_t>>(counts.begin(), counts.end());
  }

  asio::awaitable<kit::outbox::Stats> stats() override {
    kit::outbox::Stats s;
    for (const auto& [seq, r] : rows_) {
      if (r.state != "pending") continue;
      ++s.pending;
      if (!s.oldest || r.created_at < *s.oldest) s.oldest = r.created_at;
    }
    co_return s;
  }

  asio::awaitable<std::int64_t> purge(Timestamp finished_before, std::size_t limit) override {
    std::int64_t purged = 0;
    for (auto it = rows_.begin(); it != rows_.end() && static_cast<std::size_t>(purged) < limit;) {
      const Row& r = it->second;
      if (r.state != "pending" && r.finished_at && *r.finished_at < finished_before) {
        it = rows_.erase(it);
        ++purged;
      } else {
        ++it;
      }
    }
    co_return purged;
  }

  bool fail_claim = false;
  bool fail_marks = false;
  std::chrono::milliseconds reschedule_delay{0};
  std::vector<std::size_t> claim_limits;
  int expire_calls = 0;
  int stale_marks = 0;
  int releases = 0;

 private:
  // The row `claimed` names, while its lease is still the row's; else nullptr.
  Row* holder(const Claimed& claimed) {
    const auto it = rows_.find(claimed.seq);
    if (it == rows_.end() || it->second.state != "pending" ||
        it->second.claimed_until != claimed.lease_until) {
      ++stale_marks;
      return nullptr;
    }
    return &it->second;
  }

  std::int64_t next_seq_ = 1;
  std::map<std::int64_t, Row> rows_;  // by seq: write order
};

// A destination that answers as the test's script says and remembers every row handed to it.
class FakeDestination final : public kit::outbox::Destination {
 public:
  using Script = std::function<Delivery(const Claimed&)>;

  explicit FakeDestination(std::string name) : name_(std::move(name)) {}
  const std::string& name() const noexcept override { return name_; }
  asio::awaitable<Delivery> deliver(const Claimed& row) override {
    calls.push_back(row);
    co_return script(row);
  }

  void succeed() {
    script = [](const Claimed&) { return Delivery{true, ""}; };
  }
  void fail(std::string error) {
    script = [error](const Claimed&) { return Delivery{false, error}; };
  }
  std::vector<std::int64_t> seqs() const {
    std::vector<std::int64_t> out;
    for (const auto& c : calls) out.push_back(c.seq);
    return out;
  }

  Script script = [](const Claimed&) { return Delivery{true, ""}; };
  std::vector<Claimed> calls;

 private:
  std::string name_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  // Before start(): the destinations the dispatcher will own.
  FakeDestination& destination(std::string name) {
    auto d = std::make_unique<FakeDestination>(std::move(name));
    FakeDestination& ref = *d;
    destinations_.push_back(std::move(d));
    return ref;
  }
  Dispatcher& start(DispatcherOptions options) {
    auto clock = [this] { return clock_; };
    dispatcher_ =
        std::make_unique<Dispatcher>(store_, std::move(destinations_), options, &registry_, clock);
    return *dispatcher_;
  }
  std::size_t round(bool force_upkeep = false) {
    return test_support::run_coroutine(dispatcher_->run_once(force_upkeep));
  }

  Timestamp now() const { return std::chrono::time_point_cast<std::chrono::microseconds>(clock_); }
  void set_clock(Timestamp t) { clock_ = t; }
  void advance(std::chrono::microseconds d) { clock_ += d; }

  // A sample's value as /metrics renders it; -1 when the series is absent.
  double metric(const std::string& name, const metrics_test::Labels& labels = {}) const {
    return metrics_test::parse_exposition(registry_.render()).value(name, labels).value_or(-1);
  }
  double deliveries(const std::string& destination, const std::string& result) const {
    return metric("outbox_deliveries_total", {{"destination", destination}, {"result", result}});
  }
  double breaker_open(const std::string& destination) const {
    return metric("outbox_breaker_open", {{"destination", destination}});
  }

  FakeStore store_;
  kit::metrics::Registry registry_;
  std::chrono::system_clock::time_point clock_{kT0};
  std::vector<std::unique_ptr<kit::outbox::Destination>> destinations_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, DeliversDueRowsMarksThemAndCountsThem) {
  FakeDestination& hooks = destination("hooks");
  start({});
  const auto a = store_.add("hooks", "a", kT0);
  const auto b = store_.add("hooks", "b", kT0);
  const auto c = store_.add("hooks", "c", kT0);

  EXPECT_EQ(round(), 3u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a, b, c}));
  for (const auto seq : {a, b, c}) {
    EXPECT_EQ(store_.row(seq).state, "delivered") << seq;
    EXPECT_EQ(store_.row(seq).finished_at, now()) << seq;
    EXPECT_FALSE(store_.row(seq).claimed_until.has_value()) << seq;
  }
  // The destination got the row as written: the event id is the receiver's idempotency key.
  ASSERT_FALSE(hooks.calls.empty());
  EXPECT_EQ(hooks.calls[0].id, uuid(a));
  EXPECT_EQ(hooks.calls[0].payload, store_.row(a).payload);
  EXPECT_EQ(hooks.calls[0].attempts, 1);
  EXPECT_EQ(deliveries("hooks", "delivered"), 3);
  EXPECT_EQ(deliveries("hooks", "failed"), 0);
  EXPECT_EQ(deliveries("hooks", "dead"), 0);
  EXPECT_EQ(breaker_open("hooks"), 0);
  EXPECT_EQ(store_.stale_marks, 0);

  // Nothing left: a round hands out nothing.
  EXPECT_EQ(round(), 0u);
  EXPECT_EQ(hooks.calls.size(), 3u);
}

TEST_F(DispatcherTest, StoppingReleasesTheRestOfTheBatchForAnotherReplica) {
  FakeDestination& hooks = destination("hooks");
  FakeDestination& other = destination("other");
  start({});
  const auto a = store_.add("hooks", "a", kT0);
  const auto b = store_.add("hooks", "b", kT0);
  const auto c = store_.add("other", "c", kT0);
  // The service is told to stop while the first row is being delivered.
  hooks.script = [this](const Claimed&) {
    test_support::run_coroutine(dispatcher_->stop());
    return Delivery{true, ""};
  };

  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a}));
  EXPECT_EQ(store_.row(a).state, "delivered");
  // The rest is pending, unleased and not counted as attempted; the next lane claims nothing.
  EXPECT_EQ(store_.row(b).state, "pending");
  EXPECT_FALSE(store_.row(b).claimed_until.has_value());
  EXPECT_EQ(store_.row(b).attempts, 0);
  EXPECT_TRUE(other.calls.empty());
  EXPECT_EQ(store_.row(c).attempts, 0);
  EXPECT_EQ(round(), 0u);
}

TEST_F(DispatcherTest, DeliversEachKeyInWriteOrderEvenWhenTheFirstFails) {
  FakeDestination& hooks = destination("hooks");
  start({});
  const auto a1 = store_.add("hooks", "a", kT0);
  const auto a2 = store_.add("hooks", "a", kT0);
  const auto b1 = store_.add("hooks", "b", kT0);
  bool failed_once = false;
  std::optional<std::string> first_when_second_sent;
  hooks.script = [&](const Claimed& row) {
    if (row.seq == a1 && !failed_once) {
      failed_once = true;
      return Delivery{false, "HTTP 503"};
    }
    if (row.seq == a2) first_when_second_sent = store_.row(a1).state;
    return Delivery{true, ""};
  };

  // The failed head of key a holds back a2, not key b.
  EXPECT_EQ(round(), 2u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a1, b1}));
  EXPECT_EQ(store_.row(a1).state, "pending");
  EXPECT_EQ(store_.row(b1).state, "delivered");
  // Until a1's backoff has passed, a2 still waits.
  EXPECT_EQ(round(), 0u);
  EXPECT_EQ(store_.row(a2).attempts, 0);

  advance(2s);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a1, b1, a1, a2}));
  EXPECT_EQ(first_when_second_sent, "delivered");
  EXPECT_EQ(store_.row(a2).state, "delivered");
  EXPECT_EQ(deliveries("hooks", "delivered"), 3);
  EXPECT_EQ(deliveries("hooks", "failed"), 1);
}

TEST_F(DispatcherTest, FailedRowWaitsABackoffThatGrowsWithItsAttempts) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.backoff = {1s, 15min};
  start(options);
  const auto seq = store_.add("hooks", "a", kT0);
  hooks.fail("HTTP 500");

  // Attempt n (from 1) waits between half and all of 1 s × 2^(n-1).
  const std::vector<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> bounds{
      {500ms, 1000ms}, {1000ms, 2000ms}, {2000ms, 4000ms}, {4000ms, 8000ms}};
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i + 1));
    ASSERT_EQ(round(), 1u);
    ASSERT_EQ(hooks.calls.size(), i + 1);
    const FakeStore::Row& row = store_.row(seq);
    EXPECT_EQ(row.state, "pending");
    EXPECT_EQ(row.attempts, static_cast<int>(i + 1));
    EXPECT_EQ(row.last_error, "HTTP 500");
    EXPECT_FALSE(row.claimed_until.has_value());
    const auto wait = row.next_attempt_at - now();
    EXPECT_GE(wait.count(), std::chrono::microseconds(bounds[i].first).count());
    EXPECT_LE(wait.count(), std::chrono::microseconds(bounds[i].second).count());
    // Not claimed again a microsecond before it is due…
    const Timestamp due = row.next_attempt_at;
    set_clock(due - 1us);
    EXPECT_EQ(round(), 0u);
    EXPECT_EQ(hooks.calls.size(), i + 1);
    // …and due at next_attempt_at.
    set_clock(due);
  }
  EXPECT_EQ(deliveries("hooks", "failed"), static_cast<double>(bounds.size()));

  hooks.succeed();
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(store_.row(seq).state, "delivered");
  EXPECT_EQ(hooks.calls.back().attempts, static_cast<int>(bounds.size() + 1));
  EXPECT_EQ(deliveries("hooks", "delivered"), 1);
}

TEST_F(DispatcherTest, BreakerOpensReleasesTheRestOfTheBatchAndClosesOnATrialSuccess) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.breaker = {.failure_threshold = 5, .open_for = 100ms};
  start(options);
  std::vector<std::int64_t> rows;
  for (int i = 0; i < 50; ++i) rows.push_back(store_.add("hooks", "k" + std::to_string(i), kT0));
  hooks.fail("HTTP 502");

  // Five failures in a row open the breaker: the other 45 rows are released, not sent.
  EXPECT_EQ(round(), 5u);
  EXPECT_EQ(hooks.calls.size(), 5u);
  EXPECT_EQ(dispatcher_->breaker_openings("hooks"), 1u);
  EXPECT_EQ(breaker_open("hooks"), 1);
  EXPECT_EQ(metric("outbox_breaker_openings_total", {{"destination", "hooks"}}), 1);
  EXPECT_EQ(deliveries("hooks", "failed"), 5);
  for (std::size_t i = 5; i < rows.size(); ++i) {
    const FakeStore::Row& row = store_.row(rows[i]);
    EXPECT_EQ(row.state, "pending") << i;
    EXPECT_FALSE(row.claimed_until.has_value()) << i;
    EXPECT_LE(row.next_attempt_at, now()) << i;
  }

  // While it is open, the destination's rows are not even claimed.
  const std::size_t claims = store_.claim_limits.size();
  EXPECT_EQ(round(), 0u);
  EXPECT_EQ(hooks.calls.size(), 5u);
  EXPECT_EQ(store_.claim_limits.size(), claims);

  // Then one trial row goes out, and its success closes the breaker.
  std::this_thread::sleep_for(options.breaker.open_for + 10ms);
  hooks.succeed();
  EXPECT_EQ(round(), 1u);
  ASSERT_EQ(hooks.calls.size(), 6u);
  EXPECT_EQ(store_.claim_limits.back(), 1u);
  EXPECT_EQ(hooks.calls.back().seq, rows[5]);  // the oldest due row: the failed five wait
  EXPECT_EQ(breaker_open("hooks"), 0);
  EXPECT_EQ(dispatcher_->breaker_openings("hooks"), 1u);

  // Closed: full batches again.
  EXPECT_EQ(round(), 44u);
  EXPECT_EQ(store_.claim_limits.back(), 50u);
  advance(15min);
  EXPECT_EQ(round(), 5u);
  EXPECT_EQ(store_.pending_count(), 0u);
  EXPECT_EQ(deliveries("hooks", "delivered"), 50);
  EXPECT_EQ(deliveries("hooks", "failed"), 5);
}

TEST_F(DispatcherTest, FailedTrialOpensTheBreakerAgain) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.breaker = {.failure_threshold = 2, .open_for = 20ms};
  start(options);
  for (int i = 0; i < 5; ++i) store_.add("hooks", "k" + std::to_string(i), kT0);
  hooks.fail("timeout");

  EXPECT_EQ(round(), 2u);
  EXPECT_EQ(dispatcher_->breaker_openings("hooks"), 1u);
  std::this_thread::sleep_for(options.breaker.open_for + 10ms);
  EXPECT_EQ(round(), 1u);  // the trial, which fails
  EXPECT_EQ(dispatcher_->breaker_openings("hooks"), 2u);
  EXPECT_EQ(breaker_open("hooks"), 1);
  EXPECT_EQ(metric("outbox_breaker_openings_total", {{"destination", "hooks"}}), 2);
  EXPECT_EQ(deliveries("hooks", "failed"), 3);
}

TEST_F(DispatcherTest, FailedRowOlderThanMaxAgeIsDead) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.max_age = 1h;
  options.upkeep = 24h;  // only the first round's upkeep: the delivery path decides here
  start(options);
  const auto seq = store_.add("hooks", "a", kT0);
  hooks.fail("HTTP 500");

  set_clock(kT0 + 30min);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(store_.row(seq).state, "pending");
  EXPECT_EQ(deliveries("hooks", "failed"), 1);

  set_clock(kT0 + 1h + 1s);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(hooks.calls.size(), 2u);
  EXPECT_EQ(store_.row(seq).state, "dead");
  EXPECT_EQ(store_.row(seq).finished_at, now());
  EXPECT_EQ(store_.row(seq).last_error, "HTTP 500");
  EXPECT_EQ(deliveries("hooks", "dead"), 1);
  EXPECT_EQ(deliveries("hooks", "failed"), 1);
  EXPECT_EQ(store_.expire_calls, 1);

  // Never handed out again.
  advance(24h);
  EXPECT_EQ(round(), 0u);
  EXPECT_EQ(hooks.calls.size(), 2u);
}

TEST_F(DispatcherTest, ForcedUpkeepExpiresOldRowsAndReportsTheOutboxGauges) {
  FakeDestination& hooks = destination("hooks");
  FakeDestination& mail = destination("mail");
  DispatcherOptions options;
  options.max_age = 1h;
  options.upkeep = 24h;
  options.keep_finished = 7 * 24h;
  start(options);
  // The first round's upkeep, with an empty outbox.
  EXPECT_EQ(round(), 0u);
  EXPECT_EQ(store_.expire_calls, 1);
  EXPECT_EQ(metric("outbox_pending"), 0);
  EXPECT_EQ(metric("outbox_oldest_age_seconds"), 0);

  const auto old_hooks_a = store_.add("hooks", "a", kT0);
  const auto old_hooks_b = store_.add("hooks", "b", kT0);
  const auto old_mail = store_.add("mail", "a", kT0);
  // Held by another replica: its lease protects it from expiry.
  const auto leased = store_.add("hooks", "c", kT0);
  store_.row(leased).claimed_until = kT0 + 2h;
  const auto recent_hooks = store_.add("hooks", "d", kT0 + 80min);
  const auto recent_mail = store_.add("mail", "b", kT0 + 80min);
  // Delivered long ago: purged.
  const auto finished = store_.add("hooks", "e", kT0 - 10 * 24h);
  store_.row(finished).state = "delivered";
  store_.row(finished).finished_at = kT0 - 8 * 24h;

  set_clock(kT0 + 90min);
  // Upkeep is not due for another day; forced, it comes first (old rows die unsent), then the
  // round delivers what is left.
  EXPECT_EQ(round(true), 2u);
  EXPECT_EQ(store_.expire_calls, 2);
  for (const auto seq : {old_hooks_a, old_hooks_b, old_mail}) {
    EXPECT_EQ(store_.row(seq).state, "dead") << seq;
    EXPECT_EQ(store_.row(seq).last_error, "expired") << seq;
  }
  EXPECT_EQ(store_.row(leased).state, "pending");
  EXPECT_EQ(store_.row(recent_hooks).state, "delivered");
  EXPECT_EQ(store_.row(recent_mail).state, "delivered");
  EXPECT_FALSE(store_.has(finished));
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{recent_hooks}));
  EXPECT_EQ(mail.seqs(), (std::vector<std::int64_t>{recent_mail}));
  EXPECT_EQ(deliveries("hooks", "dead"), 2);
  EXPECT_EQ(deliveries("mail", "dead"), 1);
  // The gauges are the stats after expiry: the leased row and the two recent ones, the leased
  // one the oldest (90 minutes).
  EXPECT_EQ(metric("outbox_pending"), 3);
  EXPECT_EQ(metric("outbox_oldest_age_seconds"), 5400);

  // The next forced upkeep sees what the round delivered.
  EXPECT_EQ(round(true), 0u);
  EXPECT_EQ(metric("outbox_pending"), 1);
  EXPECT_EQ(metric("outbox_oldest_age_seconds"), 5400);
}

TEST_F(DispatcherTest, DestinationThatThrowsCountsAsAFailedAttempt) {
  FakeDestination& hooks = destination("hooks");
  start({});
  const auto a = store_.add("hooks", "a", kT0);
  const auto b = store_.add("hooks", "b", kT0);
  hooks.script = [&](const Claimed& row) -> Delivery {
    if (row.seq == a) throw std::runtime_error("connection reset");
    return Delivery{true, ""};
  };

  std::size_t handled = 0;
  EXPECT_NO_THROW(handled = round());
  EXPECT_EQ(handled, 2u);
  EXPECT_EQ(store_.row(a).state, "pending");
  EXPECT_EQ(store_.row(a).last_error, "connection reset");
  EXPECT_FALSE(store_.row(a).claimed_until.has_value());
  EXPECT_GT(store_.row(a).next_attempt_at, now());
  EXPECT_EQ(store_.row(b).state, "delivered");
  EXPECT_EQ(deliveries("hooks", "failed"), 1);
  EXPECT_EQ(deliveries("hooks", "delivered"), 1);

  hooks.succeed();
  advance(2s);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(store_.row(a).state, "delivered");
}

TEST_F(DispatcherTest, StoreFailingToClaimEndsTheRoundQuietlyAndLeavesNoBreakerStuck) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.breaker = {.failure_threshold = 1, .open_for = 20ms};
  start(options);
  const auto a = store_.add("hooks", "a", kT0);

  store_.fail_claim = true;
  std::size_t handled = 1;
  EXPECT_NO_THROW(handled = round());
  EXPECT_EQ(handled, 0u);
  EXPECT_TRUE(hooks.calls.empty());

  // One failure opens this breaker; the database goes down just as it half-opens, so the trial's
  // claim fails: the next round still gets its trial.
  store_.fail_claim = false;
  hooks.fail("HTTP 500");
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(breaker_open("hooks"), 1);
  std::this_thread::sleep_for(options.breaker.open_for + 10ms);
  advance(2s);
  store_.fail_claim = true;
  EXPECT_NO_THROW(handled = round());
  EXPECT_EQ(handled, 0u);
  EXPECT_EQ(store_.claim_limits.back(), 1u);  // it was the trial

  store_.fail_claim = false;
  hooks.succeed();
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(store_.row(a).state, "delivered");
  EXPECT_EQ(breaker_open("hooks"), 0);
  EXPECT_EQ(dispatcher_->breaker_openings("hooks"), 1u);
}

TEST_F(DispatcherTest, StoreFailingToMarkLeavesTheRowLeasedUntilItsLeaseEnds) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.lease = 60s;
  start(options);
  const auto a = store_.add("hooks", "a", kT0);

  // Delivered, but the database went away before the mark: at least once means "again later".
  store_.fail_marks = true;
  std::size_t handled = 0;
  EXPECT_NO_THROW(handled = round());
  EXPECT_EQ(handled, 0u);  // the round's count for that destination is lost with the store
  EXPECT_EQ(hooks.calls.size(), 1u);
  EXPECT_EQ(store_.row(a).state, "pending");
  EXPECT_EQ(store_.row(a).claimed_until, kT0 + 60s);

  store_.fail_marks = false;
  advance(59s);
  EXPECT_EQ(round(), 0u);
  advance(1s);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(hooks.calls.size(), 2u);
  EXPECT_EQ(hooks.calls.back().id, hooks.calls.front().id);  // the same idempotency key
  EXPECT_EQ(store_.row(a).state, "delivered");
}

TEST_F(DispatcherTest, FailingDestinationDoesNotHoldBackAnother) {
  FakeDestination& bad = destination("bad");
  FakeDestination& good = destination("good");
  start({});
  bad.fail("could not connect");
  std::vector<std::int64_t> good_rows;
  // One event per user for both destinations: same keys.
  for (int i = 0; i < 10; ++i) {
    store_.add("bad", "u" + std::to_string(i), kT0);
    good_rows.push_back(store_.add("good", "u" + std::to_string(i), kT0));
  }

  EXPECT_EQ(round(), 15u);  // the breaker's threshold of bad rows, and every good one
  EXPECT_EQ(bad.calls.size(), 5u);
  EXPECT_EQ(good.seqs(), good_rows);
  EXPECT_EQ(breaker_open("bad"), 1);
  EXPECT_EQ(breaker_open("good"), 0);
  EXPECT_EQ(deliveries("good", "delivered"), 10);
  EXPECT_EQ(deliveries("bad", "failed"), 5);
  EXPECT_EQ(deliveries("bad", "delivered"), 0);

  // New rows for the good destination keep flowing while the bad one's breaker is open.
  const auto later = store_.add("good", "u0", kT0);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(good.calls.back().seq, later);
  EXPECT_EQ(bad.calls.size(), 5u);
}

TEST_F(DispatcherTest, RowWhoseLeaseWouldRunOutIsReleasedInsteadOfDelivered) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.lease = 60s;
  options.attempt_timeout = 12s;
  start(options);
  const auto a = store_.add("hooks", "a", kT0);
  const auto b = store_.add("hooks", "b", kT0);
  const auto c = store_.add("hooks", "c", kT0);
  // The first delivery is slow: 50 s of the 60 s lease are gone after it.
  bool slow = true;
  hooks.script = [&](const Claimed&) {
    if (slow) advance(50s);
    slow = false;
    return Delivery{true, ""};
  };

  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a}));
  EXPECT_EQ(store_.row(a).state, "delivered");
  for (const auto seq : {b, c}) {
    const FakeStore::Row& row = store_.row(seq);
    EXPECT_EQ(row.state, "pending") << seq;
    EXPECT_FALSE(row.claimed_until.has_value()) << seq;  // released now, not when the lease ends
    EXPECT_LE(row.next_attempt_at, now()) << seq;
  }
  EXPECT_EQ(deliveries("hooks", "failed"), 0);
  EXPECT_EQ(store_.stale_marks, 0);

  // Claimed again at once, with a fresh lease.
  EXPECT_EQ(round(), 2u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a, b, c}));
  EXPECT_EQ(store_.pending_count(), 0u);
}

TEST_F(DispatcherTest, LeaseShorterThanAnAttemptHandsNothingOut) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.lease = 10s;
  options.attempt_timeout = 12s;
  start(options);
  const auto a = store_.add("hooks", "a", kT0);

  EXPECT_EQ(round(), 0u);
  EXPECT_TRUE(hooks.calls.empty());
  EXPECT_EQ(store_.row(a).state, "pending");
  EXPECT_FALSE(store_.row(a).claimed_until.has_value());
}

// The breaker half-opens in the middle of a batch (its open_for ran out while the store recorded
// the failure that opened it), and the row that would have been the trial is released because
// its lease is short. No call went out, so the trial must not count as under way: the
// destination gets its trial in a later round.
TEST_F(DispatcherTest, TrialReleasedForAShortLeaseDoesNotStickTheBreaker) {
  FakeDestination& hooks = destination("hooks");
  DispatcherOptions options;
  options.lease = 60s;
  options.attempt_timeout = 12s;
  options.breaker = {.failure_threshold = 1, .open_for = 1ms};
  start(options);
  const auto a = store_.add("hooks", "a", kT0);
  const auto b = store_.add("hooks", "b", kT0);
  hooks.script = [&](const Claimed&) {
    advance(50s);  // slow, and a failure
    return Delivery{false, "timeout"};
  };
  store_.reschedule_delay = 5ms;

  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(hooks.seqs(), (std::vector<std::int64_t>{a}));
  EXPECT_EQ(store_.row(b).state, "pending");
  EXPECT_FALSE(store_.row(b).claimed_until.has_value());

  store_.reschedule_delay = 0ms;
  hooks.succeed();
  advance(1min);
  std::this_thread::sleep_for(options.breaker.open_for + 10ms);
  EXPECT_EQ(round(), 1u);  // the trial
  EXPECT_EQ(breaker_open("hooks"), 0);
  EXPECT_EQ(round(), 1u);
  EXPECT_EQ(store_.pending_count(), 0u);
}

}  // namespace

#pragma GCC diagnostic pop

#include "kit/security/password_hasher.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sodium.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "kit/errors/app_error.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using kit::async::WorkerPool;
using kit::security::PasswordHashCost;
using kit::security::PasswordHasher;
using kit::security::PasswordOperation;
using kit::security::VerifyResult;

// libsodium's minimum cost keeps these tests fast; one test below uses the production default.
constexpr PasswordHashCost kLowCost{.memory_kib = 8, .iterations = 1};

using test_support::run_coroutine;

class PasswordHasherTest : public testing::Test {
 protected:
  asio::io_context ctx_;
  WorkerPool pool_{2, 64};
};

TEST_F(PasswordHasherTest, HashesToAnArgon2idPhcStringWithTheConfiguredCost) {
  PasswordHasher hasher(pool_, kLowCost);
  const std::string phc = run_coroutine(ctx_, hasher.hash("correct horse battery staple"));
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0U) << phc;
  EXPECT_LT(phc.size(), static_cast<std::size_t>(crypto_pwhash_STRBYTES));
}

TEST_F(PasswordHasherTest, TheRightPasswordVerifies) {
  PasswordHasher hasher(pool_, kLowCost);
  const std::string phc = run_coroutine(ctx_, hasher.hash("correct horse battery staple"));
  const VerifyResult result =
      run_coroutine(ctx_, hasher.verify(phc, "correct horse battery staple"));
  EXPECT_TRUE(result.ok);
  EXPECT_FALSE(result.needs_rehash);
}

TEST_F(PasswordHasherTest, AWrongPasswordDoesNotVerify) {
  PasswordHasher hasher(pool_, kLowCost);
  const std::string phc = run_coroutine(ctx_, hasher.hash("correct horse battery staple"));
  for (const char* wrong : {"correct horse battery stapl", "Correct horse battery staple",
                            "correct horse battery staple ", ""}) {
    const VerifyResult result = run_coroutine(ctx_, hasher.verify(phc, wrong));
    EXPECT_FALSE(result.ok) << wrong;
    EXPECT_FALSE(result.needs_rehash) << wrong;
  }
}

TEST_F(PasswordHasherTest, EachHashHasItsOwnSalt) {
  PasswordHasher hasher(pool_, kLowCost);
  const std::string first = run_coroutine(ctx_, hasher.hash("same password"));
  const std::string second = run_coroutine(ctx_, hasher.hash("same password"));
  EXPECT_NE(first, second);
  EXPECT_TRUE(run_coroutine(ctx_, hasher.verify(second, "same password")).ok);
}

TEST_F(PasswordHasherTest, HandlesBinaryUnicodeAndLongPasswords) {
  PasswordHasher hasher(pool_, kLowCost);
  const std::string with_nul("pass\0word", 9);
  const std::string phc = run_coroutine(ctx_, hasher.hash(with_nul));
  EXPECT_TRUE(run_coroutine(ctx_, hasher.verify(phc, with_nul)).ok);
  EXPECT_FALSE(run_coroutine(ctx_, hasher.verify(phc, "pass")).ok);  // not cut at the NUL

  const std::string unicode = "p\xC3\xA4ssw\xC3\xB6rd \xF0\x9F\x94\x91";
  EXPECT_TRUE(
      run_coroutine(ctx_, hasher.verify(run_coroutine(ctx_, hasher.hash(unicode)), unicode)).ok);

  const std::string long_password(4096, 'x');
  EXPECT_TRUE(run_coroutine(ctx_, hasher.verify(run_coroutine(ctx_, hasher.hash(long_password)),
                                                long_password))
                  .ok);
}

TEST_F(PasswordHasherTest, NeedsRehashWhenTheConfiguredCostRises) {
  PasswordHasher old_cost(pool_, kLowCost);
  const std::string phc = run_coroutine(ctx_, old_cost.hash("password123"));

  PasswordHasher more_memory(pool_, {.memory_kib = 16, .iterations = 1});
  VerifyResult result = run_coroutine(ctx_, more_memory.verify(phc, "password123"));
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.needs_rehash);

  PasswordHasher more_iterations(pool_, {.memory_kib = 8, .iterations = 2});
  result = run_coroutine(ctx_, more_iterations.verify(phc, "password123"));
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.needs_rehash);

  // Only a successful verification reports it: the caller has the password to re-hash only then.
  result = run_coroutine(ctx_, more_memory.verify(phc, "wrong password"));
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.needs_rehash);
}

TEST_F(PasswordHasherTest, NeedsRehashWhenTheStoredCostIsHigherOrDifferent) {
  PasswordHasher high(pool_, {.memory_kib = 16, .iterations = 2});
  const std::string phc = run_coroutine(ctx_, high.hash("password123"));
  PasswordHasher low(pool_, kLowCost);
  const VerifyResult result = run_coroutine(ctx_, low.verify(phc, "password123"));
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.needs_rehash);
}

// Hashes are libsodium's form both ways: what libsodium made before keeps verifying (and is
// current), and libsodium verifies what the hasher makes.
TEST_F(PasswordHasherTest, HashesAreInterchangeableWithLibsodiums) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  const std::string password = "password123";
  ASSERT_EQ(
      crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kLowCost.iterations,
                            std::size_t{kLowCost.memory_kib} * 1024, crypto_pwhash_ALG_ARGON2ID13),
      0);
  PasswordHasher hasher(pool_, kLowCost);
  VerifyResult result = run_coroutine(ctx_, hasher.verify(out.data(), password));
  EXPECT_TRUE(result.ok);
  EXPECT_FALSE(result.needs_rehash);
  EXPECT_FALSE(run_coroutine(ctx_, hasher.verify(out.data(), "password124")).ok);

  const std::string ours = run_coroutine(ctx_, hasher.hash(password));
  EXPECT_EQ(crypto_pwhash_str_verify(ours.c_str(), password.data(), password.size()), 0);
  EXPECT_NE(crypto_pwhash_str_verify(ours.c_str(), "password124", 11), 0);
}

// A legacy argon2i hash still verifies (users can log in) but is flagged for upgrade.
TEST_F(PasswordHasherTest, Argon2iHashesVerifyButNeedRehash) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  const std::string password = "password123";
  ASSERT_EQ(crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                                  crypto_pwhash_argon2i_OPSLIMIT_MIN, 8 * 1024,
                                  crypto_pwhash_ALG_ARGON2I13),
            0);
  const std::string argon2i(out.data());
  ASSERT_EQ(argon2i.rfind("$argon2i$", 0), 0U);

  PasswordHasher hasher(pool_, {.memory_kib = 8, .iterations = crypto_pwhash_argon2i_OPSLIMIT_MIN});
  const VerifyResult result = run_coroutine(ctx_, hasher.verify(argon2i, password));
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.needs_rehash);
}

TEST_F(PasswordHasherTest, MalformedStoredHashesAreAFailedVerificationNotAnError) {
  PasswordHasher hasher(pool_, kLowCost);
  const std::string good = run_coroutine(ctx_, hasher.hash("password123"));
  for (const std::string& stored :
       {std::string(), std::string("password123"), std::string("$argon2id$"),
        std::string("$argon2id$v=19$m=8,t=1,p=1$"), good.substr(0, good.size() - 4),
        good + std::string(200, 'A'), std::string(good).insert(10, 1, '\0'),
        std::string("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")}) {
    VerifyResult result{};
    EXPECT_NO_THROW(result = run_coroutine(ctx_, hasher.verify(stored, "password123")));
    EXPECT_FALSE(result.ok) << stored;
    EXPECT_FALSE(result.needs_rehash) << stored;
  }
}

TEST_F(PasswordHasherTest, WorkRunsOnAWorkerThreadAndResumesOnTheCaller) {
  std::mutex mutex;
  std::vector<std::pair<PasswordOperation, std::thread::id>> calls;
  std::vector<double> durations;
  PasswordHasher hasher(pool_, kLowCost, [&](PasswordOperation operation, double seconds) {
    const std::lock_guard lock(mutex);
    calls.emplace_back(operation, std::this_thread::get_id());
    durations.push_back(seconds);
  });

  const auto caller = std::this_thread::get_id();  // the only thread running ctx_
  std::vector<std::thread::id> resumed_on;
  auto task = [&]() -> asio::awaitable<void> {
    const std::string phc = co_await hasher.hash("password123");
    resumed_on.push_back(std::this_thread::get_id());
    (void)co_await hasher.verify(phc, "password123");
    resumed_on.push_back(std::this_thread::get_id());
    (void)co_await hasher.verify_dummy("password123");
    resumed_on.push_back(std::this_thread::get_id());
  };
  run_coroutine(ctx_, task());

  ASSERT_EQ(calls.size(), 3U);
  EXPECT_EQ(calls[0].first, PasswordOperation::hash);
  EXPECT_EQ(calls[1].first, PasswordOperation::verify);
  EXPECT_EQ(calls[2].first, PasswordOperation::verify_dummy);
  for (const auto& [operation, thread] : calls) EXPECT_NE(thread, caller);
  for (const double seconds : durations) EXPECT_GE(seconds, 0.0);
  EXPECT_EQ(resumed_on, std::vector<std::thread::id>(3, caller));
}

TEST_F(PasswordHasherTest, VerifyDummyNeverSucceeds) {
  std::atomic<int> dummy_calls{0};
  PasswordHasher hasher(pool_, kLowCost, [&](PasswordOperation operation, double) {
    if (operation == PasswordOperation::verify_dummy) ++dummy_calls;
  });
  for (const char* password : {"", "password", "password123", "\xFF"}) {
    const VerifyResult result = run_coroutine(ctx_, hasher.verify_dummy(password));
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.needs_rehash);
  }
  EXPECT_EQ(dummy_calls.load(), 4);
}

// The dummy hash is made once even when the first unknown-user logins arrive together.
TEST_F(PasswordHasherTest, ConcurrentFirstDummyVerificationsAreSafe) {
  WorkerPool pool(4, 64);
  PasswordHasher hasher(pool, kLowCost);
  std::vector<std::future<VerifyResult>> results;
  for (int i = 0; i < 16; ++i) {
    results.push_back(
        asio::co_spawn(ctx_, hasher.verify_dummy("guess-" + std::to_string(i)), asio::use_future));
  }
  std::vector<std::thread> io_threads;
  for (int i = 0; i < 3; ++i) io_threads.emplace_back([this] { ctx_.run(); });
  for (auto& thread : io_threads) thread.join();
  for (auto& result : results) EXPECT_FALSE(result.get().ok);
}

TEST_F(PasswordHasherTest, AThrowingObserverDoesNotFailTheOperation) {
  PasswordHasher hasher(
      pool_, kLowCost, [](PasswordOperation, double) { throw std::runtime_error("metrics down"); });
  const std::string phc = run_coroutine(ctx_, hasher.hash("password123"));
  EXPECT_TRUE(run_coroutine(ctx_, hasher.verify(phc, "password123")).ok);
}

TEST_F(PasswordHasherTest, AFullPoolRefusesWithServiceUnavailable) {
  WorkerPool full(1, 0);  // queue bound 0: every job is refused
  PasswordHasher hasher(full, kLowCost);
  EXPECT_THROW(run_coroutine(ctx_, hasher.hash("password123")), kit::errors::ServiceUnavailable);
  EXPECT_THROW(run_coroutine(ctx_, hasher.verify("$argon2id$", "password123")),
               kit::errors::ServiceUnavailable);
}

TEST_F(PasswordHasherTest, RefusesCostsBelowLibsodiumsMinimum) {
  EXPECT_THROW(PasswordHasher(pool_, {.memory_kib = 7, .iterations = 1}), std::invalid_argument);
  EXPECT_THROW(PasswordHasher(pool_, {.memory_kib = 8, .iterations = 0}), std::invalid_argument);
  EXPECT_NO_THROW(PasswordHasher(pool_, kLowCost));
}

// The production default (docs/configuration.md: 19456 KiB, 2 iterations), end to end once.
TEST_F(PasswordHasherTest, DefaultCostRoundTrip) {
  PasswordHasher hasher(pool_, PasswordHashCost{});
  EXPECT_EQ(hasher.cost().memory_kib, 19456U);
  EXPECT_EQ(hasher.cost().iterations, 2U);
  const std::string phc = run_coroutine(ctx_, hasher.hash("correct horse battery staple"));
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0U) << phc;
  const VerifyResult result =
      run_coroutine(ctx_, hasher.verify(phc, "correct horse battery staple"));
  EXPECT_TRUE(result.ok);
  EXPECT_FALSE(result.needs_rehash);
  EXPECT_FALSE(run_coroutine(ctx_, hasher.verify(phc, "wrong")).ok);
}

}  // namespace

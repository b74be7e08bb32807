#pragma once
// Password hashing with argon2id (kit/security/argon2id: one reused work area per hashing
// thread), stored as PHC strings such as "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", the
// form libsodium writes: hashes libsodium made verify, and other forms it reads (argon2i) are
// verified by libsodium and flagged for rehash.
//
// argon2id is deliberately slow and memory-hungry, so every hash and verify runs on the bounded
// kit::async::WorkerPool: the calling coroutine is suspended, an I/O thread never runs argon2,
// and when the pool's queue is full the call throws ServiceUnavailable (503) instead of piling
// up work. A call whose deadline passes while it waits for a worker is dropped unrun
// (DeadlineExceeded): a request answered 503 spends no argon2 time. Passwords handed in are wiped
// (sodium_memzero) once used. No exception message ever contains a password or a hash.
//
// Coroutine methods keep using `this` while suspended: the hasher and the pool must outlive
// every call in flight.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/async/worker_pool.hpp"
#include "kit/security/argon2id.hpp"

namespace kit::security {

// argon2id cost. Parallelism is always 1 (one lane, as libsodium makes them).
struct PasswordHashCost {
  unsigned memory_kib = 19456;  // OWASP minimum; libsodium accepts 8 and up
  unsigned iterations = 2;      // libsodium accepts 1 and up
};

struct VerifyResult {
  bool ok = false;
  // The password matched but the stored hash uses another cost or algorithm: store a new
  // hash(password) now, while the plain password is at hand. Always false when !ok.
  bool needs_rehash = false;
};

enum class PasswordOperation { hash, verify, verify_dummy };

// Called with the time argon2 work took on the worker (queueing excluded), for metrics.
// It is called on a worker thread, so it must be thread-safe; exceptions it throws are ignored.
using PasswordDurationObserver = std::function<void(PasswordOperation, double seconds)>;

class PasswordHasher {
 public:
  // Throws std::invalid_argument when the cost is below libsodium's minimum (8 KiB, 1 pass) or
  // above its maximum.
  PasswordHasher(kit::async::WorkerPool& pool, PasswordHashCost cost,
                 PasswordDurationObserver observer = {});
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // A PHC string of `password` with the configured cost and a fresh random salt.
  // Throws std::runtime_error when the work area cannot be mapped (out of memory).
  boost::asio::awaitable<std::string> hash(std::string password,
                                           kit::async::Deadline deadline = {});

  // Checks `password` against a stored PHC string. A malformed, empty or foreign stored string
  // gives ok=false rather than an exception: it cannot be told apart from a wrong password.
  boost::asio::awaitable<VerifyResult> verify(std::string phc_hash, std::string password,
                                              kit::async::Deadline deadline = {});

  // For logins naming an unknown user: does the same argon2 work as verify() against a dummy
  // hash of the configured cost, so the response takes about as long, and returns ok=false.
  // The dummy hash is made on first use (that first call costs one extra hash).
  boost::asio::awaitable<VerifyResult> verify_dummy(std::string password,
                                                    kit::async::Deadline deadline = {});
  // Calls not run because their deadline passed while they waited for a worker.
  std::uint64_t dropped_past_deadline() const noexcept { return pool_.dropped_past_deadline(); }

  const PasswordHashCost& cost() const noexcept { return cost_; }

 private:
  argon2id::Params params() const noexcept;
  std::string hash_now(const std::string& password) const;
  // Runs on a worker: makes the dummy hash on first use.
  const std::string& dummy_hash();
  void report(PasswordOperation operation, std::chrono::steady_clock::duration elapsed) const;

  kit::async::WorkerPool& pool_;
  PasswordHashCost cost_;
  PasswordDurationObserver observer_;
  std::mutex dummy_mutex_;
  std::string dummy_hash_;  // empty until first needed; written once under dummy_mutex_
};

}  // namespace kit::security

#include "kit/security/password_hasher.hpp"

#include <array>
#include <cstring>
#include <stdexcept>

#include <sodium.h>

#include "kit/security/argon2id.hpp"
#include "kit/security/constant_time.hpp"
#include "kit/security/sodium.hpp"
#include "kit/trace/child_span.hpp"

namespace kit::security {
namespace {

// Wipes a password copy when the scope ends, including by an exception or by the coroutine
// frame being destroyed while suspended.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& secret) : secret_(secret) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit() { sodium_memzero(secret_.data(), secret_.size()); }

 private:
  std::string& secret_;
};

std::size_t memlimit_bytes(const PasswordHashCost& cost) {
  return static_cast<std::size_t>(cost.memory_kib) * 1024U;
}

constexpr std::size_t kSaltBytes = 16;  // as libsodium makes them
constexpr std::size_t kTagBytes = 32;

// libsodium reads the stored string as a C string of at most crypto_pwhash_STRBYTES bytes.
bool plausible_phc(const std::string& phc) {
  return !phc.empty() && phc.size() < crypto_pwhash_STRBYTES &&
         std::memchr(phc.data(), '\0', phc.size()) == nullptr;
}

// Our argon2id verifies every "$argon2id$v=19$...,p=1$" string (what this service and libsodium
// write); any other form libsodium accepts (argon2i, more lanes) goes to libsodium, and a
// match there always asks for a rehash into the current form.
VerifyResult verify_now(const std::string& phc, const std::string& password,
                        const argon2id::Params& current) {
  VerifyResult result;
  if (const auto parsed = argon2id::parse_phc(phc)) {
    std::array<std::uint8_t, 64> tag{};
    const std::span<std::uint8_t> computed(tag.data(), parsed->tag.size());
    argon2id::derive(parsed->params, password, parsed->salt, computed);
    result.ok = constant_time_equal(
        std::string_view(reinterpret_cast<const char*>(computed.data()), computed.size()),
        std::string_view(reinterpret_cast<const char*>(parsed->tag.data()), parsed->tag.size()));
    result.needs_rehash = result.ok && parsed->params != current;
    sodium_memzero(tag.data(), tag.size());
    return result;
  }
  result.ok = plausible_phc(phc) &&
              crypto_pwhash_str_verify(phc.c_str(), password.data(), password.size()) == 0;
  result.needs_rehash = result.ok;
  return result;
}

}  // namespace

PasswordHasher::PasswordHasher(kit::async::WorkerPool& pool, PasswordHashCost cost,
                               PasswordDurationObserver observer)
    : pool_(pool), cost_(cost), observer_(std::move(observer)) {
  ensure_sodium_initialized();
  // An unsigned cannot exceed OPSLIMIT_MAX (2^32 - 1), so only the minimum needs checking.
  if (cost_.iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN) {
    throw std::invalid_argument("argon2id iterations out of range");
  }
  if (memlimit_bytes(cost_) < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      memlimit_bytes(cost_) > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    throw std::invalid_argument("argon2id memory cost out of range");
  }
}

argon2id::Params PasswordHasher::params() const noexcept {
  return {.memory_kib = cost_.memory_kib, .iterations = cost_.iterations};
}

std::string PasswordHasher::hash_now(const std::string& password) const {
  std::array<std::uint8_t, kSaltBytes> salt{};
  std::array<std::uint8_t, kTagBytes> tag{};
  randombytes_buf(salt.data(), salt.size());
  try {
    argon2id::derive(params(), password, salt, tag);
  } catch (const std::bad_alloc&) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  std::string phc = argon2id::format_phc(params(), salt, tag);
  sodium_memzero(tag.data(), tag.size());
  return phc;
}

const std::string& PasswordHasher::dummy_hash() {
  // A plain mutex rather than std::call_once: call_once with a throwing callable (out of
  // memory here) hangs on some libstdc++ targets (GCC bug 66146). Concurrent first callers wait
  // for the one hash; a failure leaves it empty so the next call tries again. Once set the
  // string never changes, so the reference stays valid and readable after unlocking.
  const std::lock_guard lock(dummy_mutex_);
  if (dummy_hash_.empty()) {
    std::string secret(32, '\0');
    const WipeOnExit wipe_secret(secret);
    randombytes_buf(secret.data(), secret.size());
    dummy_hash_ = hash_now(secret);
  }
  return dummy_hash_;
}

void PasswordHasher::report(PasswordOperation operation,
                            std::chrono::steady_clock::duration elapsed) const {
  if (!observer_) return;
  try {
    observer_(operation, std::chrono::duration<double>(elapsed).count());
  } catch (...) {
    // Metrics must never turn a successful login into a failure.
  }
}

namespace {

// A hashing span's failure: the request's deadline passed while the job waited for a worker,
// or anything else.
void fail_span(kit::trace::ChildSpan& span, const std::exception& e) {
  span.fail(dynamic_cast<const kit::async::DeadlineExceeded*>(&e) != nullptr ? "timeout"
                                                                             : "_OTHER");
}

}  // namespace

boost::asio::awaitable<std::string> PasswordHasher::hash(std::string password,
                                                         kit::async::Deadline deadline) {
  const WipeOnExit wipe(password);
  kit::trace::ChildSpan span(deadline.trace(), "argon2id hash");
  try {
    co_return co_await pool_.run(
        [this, &password] {
          const auto start = std::chrono::steady_clock::now();
          std::string phc = hash_now(password);
          report(PasswordOperation::hash, std::chrono::steady_clock::now() - start);
          return phc;
        },
        deadline);
  } catch (const std::exception& e) {
    fail_span(span, e);
    throw;
  }
}

boost::asio::awaitable<VerifyResult> PasswordHasher::verify(std::string phc_hash,
                                                            std::string password,
                                                            kit::async::Deadline deadline) {
  const WipeOnExit wipe(password);
  kit::trace::ChildSpan span(deadline.trace(), "argon2id verify");
  try {
    co_return co_await pool_.run(
        [this, &phc_hash, &password] {
          const auto start = std::chrono::steady_clock::now();
          const VerifyResult result = verify_now(phc_hash, password, params());
          report(PasswordOperation::verify, std::chrono::steady_clock::now() - start);
          return result;
        },
        deadline);
  } catch (const std::exception& e) {
    fail_span(span, e);
    throw;
  }
}

boost::asio::awaitable<VerifyResult> PasswordHasher::verify_dummy(std::string password,
                                                                  kit::async::Deadline deadline) {
  const WipeOnExit wipe(password);
  // Named like a real verification: a trace does not tell whether the account exists.
  kit::trace::ChildSpan span(deadline.trace(), "argon2id verify");
  try {
    co_await pool_.run(
        [this, &password] {
          const auto start = std::chrono::steady_clock::now();
          const std::string& dummy = dummy_hash();
          // The result is ignored: nobody knows the random dummy password.
          (void)verify_now(dummy, password, params());
          report(PasswordOperation::verify_dummy, std::chrono::steady_clock::now() - start);
        },
        deadline);
  } catch (const std::exception& e) {
    fail_span(span, e);
    throw;
  }
  co_return VerifyResult{};
}

}  // namespace kit::security

#include "kit/util/random.hpp"

#include <sodium.h>

namespace kit::util {
namespace {

struct Xoshiro256 {
  std::uint64_t s[4];
  Xoshiro256() noexcept {
    // sodium_init() is idempotent and thread-safe; randombytes works before it on Linux, but
    // calling it keeps the contract explicit.
    if (sodium_init() < 0) __builtin_trap();
    do {
      randombytes_buf(s, sizeof s);
    } while ((s[0] | s[1] | s[2] | s[3]) == 0);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

}  // namespace

std::uint64_t fast_random() noexcept {
  thread_local Xoshiro256 rng;
  return rng.next();
}

}  // namespace kit::util

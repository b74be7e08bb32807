#pragma once
// Fast per-thread random numbers for identifiers that must be unique and unguessable enough for
// correlation (request ids, trace ids), seeded from the OS CSPRNG. Secrets (JWT ids, keys) use
// libsodium's randombytes_buf directly instead.
#include <cstdint>

namespace kit::util {

// xoshiro256** seeded per thread from libsodium's randombytes_buf.
std::uint64_t fast_random() noexcept;

}  // namespace kit::util

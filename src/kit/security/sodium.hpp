#pragma once
// libsodium must be initialised once before use (it picks the fastest implementations and opens
// the random source). Every kit piece that calls libsodium goes through this first.
namespace kit::security {

// Calls sodium_init() exactly once per process, thread-safely; throws std::runtime_error when
// libsodium cannot be initialised (no usable random source).
void ensure_sodium_initialized();

}  // namespace kit::security

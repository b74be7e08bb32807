#include "kit/security/sodium.hpp"

#include <stdexcept>

#include <sodium.h>

namespace kit::security {

void ensure_sodium_initialized() {
  // A function-local static is initialised once even with concurrent callers; if sodium_init()
  // fails the exception propagates and the next call tries again.
  static const bool initialized = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialized");
    return true;
  }();
  (void)initialized;
}

}  // namespace kit::security

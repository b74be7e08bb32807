#include "kit/redis/script.hpp"

#include <openssl/sha.h>

#include <array>

namespace kit::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(2 * digest.size());
  for (unsigned char b : digest) {
    sha1_.push_back(kHex[b >> 4]);
    sha1_.push_back(kHex[b & 0xf]);
  }
}

}  // namespace kit::redis

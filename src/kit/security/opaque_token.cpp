#include "kit/security/opaque_token.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

#include "kit/security/base64url.hpp"
#include "kit/security/sodium.hpp"

namespace kit::security {
namespace {

constexpr std::size_t kTokenBytes = 32;
using Digest = std::array<unsigned char, crypto_hash_sha256_BYTES>;
static_assert(crypto_hash_sha256_BYTES == kTokenBytes);

Digest sha256(std::string_view prefix, std::string_view data) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()),
                            prefix.size());
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  Digest digest{};
  crypto_hash_sha256_final(&state, digest.data());
  return digest;
}

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xF]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The key a token's holder can derive; the prefix keeps it apart from the token's own hash.
Digest seal_key(std::string_view key_token) {
  return sha256(std::string_view("kit.opaque-token.seal\0", 22), key_token);
}

}  // namespace

OpaqueToken new_opaque_token() {
  ensure_sodium_initialized();
  std::array<unsigned char, kTokenBytes> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string token =
      base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  sodium_memzero(bytes.data(), bytes.size());
  std::string hash = opaque_token_hash(token);
  return OpaqueToken{std::move(token), std::move(hash)};
}

std::string opaque_token_hash(std::string_view token) {
  const Digest digest = sha256({}, token);
  return hex(digest.data(), digest.size());
}

std::string seal_with_token(std::string_view secret, std::string_view key_token) {
  std::optional<std::string> bytes = base64url_decode(secret);
  if (!bytes || bytes->size() != kTokenBytes) {
    throw std::invalid_argument("only an opaque token can be sealed");
  }
  const Digest key = seal_key(key_token);
  std::array<unsigned char, kTokenBytes> sealed{};
  for (std::size_t i = 0; i < kTokenBytes; ++i) {
    sealed[i] = static_cast<unsigned char>(static_cast<unsigned char>((*bytes)[i]) ^ key[i]);
  }
  sodium_memzero(bytes->data(), bytes->size());
  return hex(sealed.data(), sealed.size());
}

std::optional<std::string> open_with_token(std::string_view sealed, std::string_view key_token) {
  if (sealed.size() != kTokenBytes * 2) return std::nullopt;
  const Digest key = seal_key(key_token);
  std::string bytes(kTokenBytes, '\0');
  for (std::size_t i = 0; i < kTokenBytes; ++i) {
    const int hi = hex_digit(sealed[2 * i]);
    const int lo = hex_digit(sealed[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = static_cast<char>(((hi << 4) | lo) ^ key[i]);
  }
  std::string token = base64url_encode(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return token;
}

}  // namespace kit::security

#include "kit/security/webhook_signature.hpp"

#include <array>

#include <sodium.h>

#include "kit/security/sodium.hpp"

namespace kit::security {
namespace {

constexpr std::string_view kPrefix = "whsec_";

}  // namespace

std::optional<WebhookSecret> WebhookSecret::parse(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  ensure_sodium_initialized();
  text.remove_prefix(kPrefix.size());
  std::vector<unsigned char> key(kMaxKeyBytes + 1);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || length < kMinKeyBytes || length > kMaxKeyBytes) {
    sodium_memzero(key.data(), key.size());
    return std::nullopt;
  }
  key.resize(length);
  return WebhookSecret(std::move(key));
}

WebhookSecret::~WebhookSecret() {
  if (!key_.empty()) sodium_memzero(key_.data(), key_.size());
}

std::string WebhookSecret::sign(std::string_view id, std::int64_t timestamp,
                                std::string_view body) const {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key_.data(), key_.size());
  const std::string stamp = std::to_string(timestamp);
  const auto update = [&](std::string_view part) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
  };
  update(id);
  update(".");
  update(stamp);
  update(".");
  update(body);
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);

  constexpr std::size_t kEncoded =
      sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_ORIGINAL);
  std::array<char, kEncoded> encoded{};
  sodium_bin2base64(encoded.data(), encoded.size(), mac.data(), mac.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  return "v1," + std::string(encoded.data());
}

}  // namespace kit::security

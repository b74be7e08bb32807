#pragma once
// Webhook signatures as Standard Webhooks defines them, so that a receiver verifies our calls
// with any of its libraries (the tests use the npm package `standardwebhooks`): a request
// carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, which is
// "v1," followed by the standard base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>").
// The shared secret is written "whsec_" followed by the standard base64 of the key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kit::security {

class WebhookSecret {
 public:
  // Keys of 24 to 64 bytes, as the Standard Webhooks specification asks.
  static constexpr std::size_t kMinKeyBytes = 24;
  static constexpr std::size_t kMaxKeyBytes = 64;

  // The secret in "whsec_<base64>" form; nullopt when the prefix, the base64 or the key length
  // is wrong (no message: the text is a secret and must not reach a log).
  static std::optional<WebhookSecret> parse(std::string_view text);

  WebhookSecret(const WebhookSecret&) = default;
  WebhookSecret& operator=(const WebhookSecret&) = default;
  WebhookSecret(WebhookSecret&&) noexcept = default;
  WebhookSecret& operator=(WebhookSecret&&) noexcept = default;
  ~WebhookSecret();

  // The `webhook-signature` value for one delivery: "v1,<base64 HMAC-SHA256>".
  std::string sign(std::string_view id, std::int64_t timestamp, std::string_view body) const;

 private:
  explicit WebhookSecret(std::vector<unsigned char> key) : key_(std::move(key)) {}
  std::vector<unsigned char> key_;
};

}  // namespace kit::security

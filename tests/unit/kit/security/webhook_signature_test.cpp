#include "kit/security/webhook_signature.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using kit::security::WebhookSecret;

// The example the Standard Webhooks project publishes (its libraries' tests use it too).
TEST(WebhookSignature, SignsThePublishedExample) {
  const auto secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(secret->sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, EveryPartIsSigned) {
  const auto secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(secret.has_value());
  const std::string base = secret->sign("evt_1", 1700000000, "{}");
  EXPECT_EQ(base, secret->sign("evt_1", 1700000000, "{}"));
  EXPECT_NE(base, secret->sign("evt_2", 1700000000, "{}"));
  EXPECT_NE(base, secret->sign("evt_1", 1700000001, "{}"));
  EXPECT_NE(base, secret->sign("evt_1", 1700000000, "{ }"));
  const auto other = WebhookSecret::parse("whsec_" + std::string(32, 'A'));
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(base, other->sign("evt_1", 1700000000, "{}"));
}

TEST(WebhookSignature, KeysOf24To64BytesInStandardBase64) {
  // 24 bytes (32 characters), 64 bytes (88 characters with padding).
  EXPECT_TRUE(WebhookSecret::parse("whsec_" + std::string(32, 'A')).has_value());
  EXPECT_TRUE(WebhookSecret::parse("whsec_" + std::string(84, 'A') + "AA==").has_value());
  for (const std::string& bad : {
           std::string(),
           std::string("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),  // no prefix
           std::string("whsec_"),
           std::string("whsec_") + std::string(28, 'A'),           // 21 bytes
           std::string("whsec_") + std::string(88, 'A'),           // 66 bytes
           std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS_"),  // base64url, not standard
           std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "),
           std::string("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
       }) {
    EXPECT_FALSE(WebhookSecret::parse(bad).has_value()) << bad;
  }
}

}  // namespace

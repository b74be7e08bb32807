// Signs one webhook delivery with kit::security::WebhookSecret, for
// tests/browser/webhook_signature.test.mjs to verify with the npm package `standardwebhooks`.
// Usage: WEBHOOK_SECRET=whsec_... webhook-sign <webhook-id> <unix seconds> < body
// Prints the webhook-signature value; exit 2 for bad arguments or a malformed secret.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "kit/security/webhook_signature.hpp"

int main(int argc, char** argv) {
  const char* secret_text = std::getenv("WEBHOOK_SECRET");
  if (argc != 3 || secret_text == nullptr) {
    std::fprintf(stderr, "usage: WEBHOOK_SECRET=whsec_... webhook-sign ID TIMESTAMP < BODY\n");
    return 2;
  }
  const auto secret = kit::security::WebhookSecret::parse(secret_text);
  if (!secret) {
    std::fprintf(stderr, "webhook-sign: malformed secret\n");
    return 2;
  }
  char* end = nullptr;
  const long long timestamp = std::strtoll(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0') {
    std::fprintf(stderr, "webhook-sign: timestamp must be an integer\n");
    return 2;
  }
  const std::string body((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
  std::printf("%s\n", secret->sign(argv[1], timestamp, body).c_str());
  return 0;
}

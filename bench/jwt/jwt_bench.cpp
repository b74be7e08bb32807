// Signing and verifying cost per token, one run on one machine (bench/jwt.sh; README
// "Signing and verifying cost"). For each algorithm the service offers, JwtCodec::issue and
// JwtCodec::verify on a token like the ones the service issues: what a sign-in pays, what a
// token's first use pays, and what every later request with it pays (a remembered token). Beside
// them, raw Ed25519 from libsodium and from OpenSSL 3's EVP: the measurement that chose libsodium
// for Ed25519 in kit::security::SigningKey (OpenSSL stays for P-256, which libsodium lacks). One
// thread; prints one JSON object per row (median of several rounds).
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kit/security/jwt.hpp"
#include "kit/security/signing_key.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using kit::security::JwtAlgorithm;
using kit::security::JwtCodec;
using kit::security::KeyType;
using kit::security::SigningKey;

constexpr int kRounds = 7;
constexpr auto kRoundTime = std::chrono::milliseconds(300);

// Median microseconds per call of `op` over kRounds rounds of about kRoundTime each.
double us_per_call(const std::function<void()>& op) {
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    long calls = 0;
    const auto start = Clock::now();
    auto now = start;
    while (now - start < kRoundTime) {
      for (int i = 0; i < 16; ++i) op();
      calls += 16;
      now = Clock::now();
    }
    rounds.push_back(std::chrono::duration<double, std::micro>(now - start).count() /
                     static_cast<double>(calls));
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2];
}

void report(const std::string& candidate, const std::string& operation, double us) {
  std::printf(R"({"candidate":"%s","operation":"%s","us_per_op":%.3f,"ops_per_second":%.0f})"
              "\n",
              candidate.c_str(), operation.c_str(), us, 1e6 / us);
  std::fflush(stdout);
}

JwtCodec codec_for(JwtAlgorithm algorithm, bool remember_verified) {
  kit::security::JwtConfig config{.algorithm = algorithm,
                                  .issuer = "user-service",
                                  .audience = "user-service",
                                  .remember_verified = remember_verified};
  if (const auto type = kit::security::key_type_for(algorithm)) {
    config.keys = {std::make_shared<const SigningKey>(SigningKey::generate(*type))};
  } else {
    config.secret = "bench-secret-0123456789abcdef0123456789abcdef";
  }
  return JwtCodec(config);
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 1;
  const auto now = std::chrono::system_clock::now();
  const std::string subject = "01939c4e-5b1e-7c3a-9f4e-2d6b8a0c1e3f";  // a UUIDv7, like ours
  volatile std::size_t sink = 0;

  for (const auto algorithm : {JwtAlgorithm::HS256, JwtAlgorithm::EdDSA, JwtAlgorithm::ES256}) {
    // "verify": the full check a token's first use pays; "verify again": a remembered token.
    const JwtCodec codec = codec_for(algorithm, false);
    const std::string name = "JwtCodec " + std::string(kit::security::to_string(algorithm));
    report(name, "issue",
           us_per_call([&] { sink = sink + codec.issue(subject, now).token.size(); }));
    const std::string token = codec.issue(subject, now).token;
    report(name, "verify",
           us_per_call([&] { sink = sink + (codec.verify(token, now).ok() ? 1 : 0); }));
    const JwtCodec remembering = codec_for(algorithm, true);
    const std::string again = remembering.issue(subject, now).token;
    report(name, "verify again",
           us_per_call([&] { sink = sink + (remembering.verify(again, now).ok() ? 1 : 0); }));
  }

  // Raw Ed25519 over a signing input of our tokens' size (~250 bytes).
  const std::string input(250, 'x');
  const auto* message = reinterpret_cast<const unsigned char*>(input.data());
  std::array<unsigned char, 64> signature{};

  // OpenSSL: one EVP_MD_CTX per call, as a thread-safe shared key needs.
  EVP_PKEY* evp = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (evp == nullptr) return 1;
  const auto evp_sign = [&] {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t size = signature.size();
    EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, evp);
    EVP_DigestSign(ctx, signature.data(), &size, message, input.size());
    EVP_MD_CTX_free(ctx);
  };
  report("Ed25519 OpenSSL 3 EVP", "sign", us_per_call([&] {
           evp_sign();
           sink = sink + signature[0];
         }));
  evp_sign();
  report("Ed25519 OpenSSL 3 EVP", "verify", us_per_call([&] {
           EVP_MD_CTX* ctx = EVP_MD_CTX_new();
           EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, evp);
           sink = sink + static_cast<std::size_t>(EVP_DigestVerify(ctx, signature.data(), 64,
                                                                   message, input.size()) == 1);
           EVP_MD_CTX_free(ctx);
         }));
  EVP_PKEY_free(evp);

  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  report("Ed25519 libsodium crypto_sign_detached", "sign", us_per_call([&] {
           crypto_sign_detached(signature.data(), nullptr, message, input.size(), sk.data());
           sink = sink + signature[0];
         }));
  report("Ed25519 libsodium crypto_sign_detached", "verify", us_per_call([&] {
           sink = sink + static_cast<std::size_t>(crypto_sign_verify_detached(signature.data(),
                                                                              message, input.size(),
                                                                              pk.data()) == 0);
         }));
  return sink == 0 ? 1 : 0;
}

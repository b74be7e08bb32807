#include "kit/security/signing_key.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include "kit/json/writer.hpp"
#include "kit/security/base64url.hpp"

namespace {

using kit::security::base64url_decode;
using kit::security::base64url_encode;
using kit::security::KeyType;
using kit::security::SigningKey;

std::string from_b64url(std::string_view text) {
  auto bytes = base64url_decode(text);
  if (!bytes) throw std::invalid_argument("bad base64url in a test vector");
  return *bytes;
}

// A PEM block around DER bytes, as `openssl pkey` writes it.
std::string pem(std::string_view label, std::string_view der) {
  std::string b64(((der.size() + 2) / 3) * 4 + 1, '\0');
  const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                   reinterpret_cast<const unsigned char*>(der.data()),
                                   static_cast<int>(der.size()));
  b64.resize(static_cast<std::size_t>(size));
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + std::string(label) + "-----\n";
}

// RFC 8037 Appendix A.1: the Ed25519 private key, as PKCS#8 (RFC 8410's fixed prefix + d).
std::string rfc8037_key_pem() {
  const std::string prefix("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16);
  return pem("PRIVATE KEY", prefix + from_b64url("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"));
}

// A P-256 key as `openssl ecparam -genkey -noout` writes it (SEC1 "EC PRIVATE KEY").
constexpr std::string_view kSec1Pem =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIJCU37GikQsAbcxjNjzTYeWbtqg90tt9TyIy+Js6/4ZToAoGCCqGSM49\n"
    "AwEHoUQDQgAEvw/zExcVVNsPq1K8M4bIZGnHkaYBi4JyDaOT4hPHgxh5txO9uPG8\n"
    "FUvQE4Tjz27Vtu+D6dJnjUP0/S2fNdyC9g==\n"
    "-----END EC PRIVATE KEY-----\n";

// A SEC1 ECPrivateKey whose public point (RFC 7515 A.3's x and y) does not belong to its
// private scalar.
std::string mismatched_sec1_pem() {
  const std::string d = from_b64url("jpsQnnGQmL-YBIffH1136cLSG6M4hR0TMHu8aFUw6Y8");
  const std::string x = from_b64url("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
  const std::string y = from_b64url("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  std::string der("\x30\x77\x02\x01\x01\x04\x20", 7);
  der += d;
  der += std::string("\xa0\x0a\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 12);
  der += std::string("\xa1\x44\x03\x42\x00\x04", 6) + x + y;
  return pem("EC PRIVATE KEY", der);
}

rapidjson::Document jwk_of(const SigningKey& key, std::string_view alg) {
  kit::json::Writer out;
  key.write_public_jwk(out, alg);
  rapidjson::Document doc;
  doc.Parse(out.str().c_str());
  return doc;
}

TEST(SigningKey, Rfc8037Ed25519ThumbprintAndPublicKey) {
  const auto key = SigningKey::from_pem(rfc8037_key_pem());
  EXPECT_EQ(key.type(), KeyType::ed25519);
  EXPECT_EQ(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");  // RFC 8037 A.3
  const auto jwk = jwk_of(key, "EdDSA");
  EXPECT_STREQ(jwk["kty"].GetString(), "OKP");
  EXPECT_STREQ(jwk["crv"].GetString(), "Ed25519");
  EXPECT_STREQ(jwk["x"].GetString(), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  EXPECT_STREQ(jwk["use"].GetString(), "sig");
  EXPECT_STREQ(jwk["alg"].GetString(), "EdDSA");
  EXPECT_STREQ(jwk["kid"].GetString(), key.kid().c_str());
  EXPECT_FALSE(jwk.HasMember("d")) << "a public JWK never carries the private part";
}

TEST(SigningKey, Rfc8037Ed25519SignatureIsReproduced) {
  const auto key = SigningKey::from_pem(rfc8037_key_pem());
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string expected =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  EXPECT_EQ(base64url_encode(key.sign(input)), expected);  // Ed25519 is deterministic
  EXPECT_TRUE(key.verify(input, from_b64url(expected)));
  EXPECT_FALSE(key.verify(input + "x", from_b64url(expected)));
}

TEST(SigningKey, Sec1P256KeysLoadAndPublishTheirPoint) {
  const auto key = SigningKey::from_pem(kSec1Pem);
  EXPECT_EQ(key.type(), KeyType::p256);
  EXPECT_TRUE(key.verify("abc", key.sign("abc")));
  const auto jwk = jwk_of(key, "ES256");
  EXPECT_STREQ(jwk["kty"].GetString(), "EC");
  EXPECT_STREQ(jwk["crv"].GetString(), "P-256");
  // The point of kSec1Pem (`openssl ec -text`), base64url.
  EXPECT_STREQ(jwk["x"].GetString(), "vw_zExcVVNsPq1K8M4bIZGnHkaYBi4JyDaOT4hPHgxg");
  EXPECT_STREQ(jwk["y"].GetString(), "ebcTvbjxvBVL0BOE489u1bbvg-nSZ41D9P0tnzXcgvY");
  EXPECT_EQ(jwk["x"].GetStringLength(), 43u);
}

TEST(SigningKey, RefusesAKeyWhosePublicPointIsNotItsOwn) {
  // Signing with it would publish a JWK that verifies none of our tokens.
  EXPECT_THROW((void)SigningKey::from_pem(mismatched_sec1_pem()), std::invalid_argument);
}

TEST(SigningKey, Es256SignaturesAreRawRAndSNotDer) {
  const auto key = SigningKey::generate(KeyType::p256);
  for (int i = 0; i < 20; ++i) {  // R or S with leading zero bytes must still be 32 each
    const std::string input = "header.payload-" + std::to_string(i);
    const std::string signature = key.sign(input);
    ASSERT_EQ(signature.size(), 64u) << "DER would be 8-9 bytes longer";
    EXPECT_TRUE(key.verify(input, signature));
  }
  EXPECT_FALSE(key.verify("x", std::string(64, '\0')));
  EXPECT_FALSE(key.verify("x", std::string(72, '\x30')));
  EXPECT_FALSE(key.verify("x", ""));
}

TEST(SigningKey, GeneratedKeysRoundTripThroughPemWithTheSameKid) {
  for (const auto type : {KeyType::ed25519, KeyType::p256}) {
    const auto key = SigningKey::generate(type);
    EXPECT_EQ(key.kid().size(), 43u);
    const std::string text = key.private_pem();
    EXPECT_EQ(text.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    const auto again = SigningKey::from_pem(text);
    EXPECT_EQ(again.type(), type);
    EXPECT_EQ(again.kid(), key.kid());
    EXPECT_TRUE(again.verify("abc", key.sign("abc")));
    EXPECT_NE(SigningKey::generate(type).kid(), key.kid());
  }
}

TEST(SigningKey, KeysOfOneTypeDoNotVerifyEachOther) {
  const auto a = SigningKey::generate(KeyType::ed25519);
  const auto b = SigningKey::generate(KeyType::ed25519);
  EXPECT_FALSE(b.verify("abc", a.sign("abc")));
}

TEST(SigningKey, RefusesWhatIsNotAnUsablePrivateKey) {
  const auto refuses = [](std::string_view text) {
    try {
      (void)SigningKey::from_pem(text);
      return std::string("accepted");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(refuses(""), "is not an unencrypted PEM private key");
  EXPECT_EQ(refuses("not a key"), "is not an unencrypted PEM private key");
  EXPECT_EQ(refuses(std::string(SigningKey::kMaxPemBytes + 1, 'A')), "is larger than 16 KiB");
  // A public key is not a private key.
  EXPECT_EQ(refuses("-----BEGIN PUBLIC KEY-----\n"
                    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                    "-----END PUBLIC KEY-----\n"),
            "is not an unencrypted PEM private key");
  // An encrypted key fails without prompting for a passphrase (stdin is not read).
  EXPECT_EQ(refuses("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhCz0sjbvyDZQICCAAw\n"
                    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJ8uJ8D5Jx1WfF4fX/4mxX4EQP2h\n"
                    "-----END ENCRYPTED PRIVATE KEY-----\n"),
            "is not an unencrypted PEM private key");
  // A P-384 key: an EC key on a curve no algorithm here uses.
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(p384, nullptr);
  std::string text;
  {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, p384, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    text.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
  }
  EVP_PKEY_free(p384);
  EXPECT_EQ(refuses(text), "is neither an Ed25519 nor a P-256 private key");
}

}  // namespace

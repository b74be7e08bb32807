#pragma once
// A private key for public-key JSON Web Signatures: Ed25519 (JOSE "EdDSA", RFC 8037) or
// P-256 (JOSE "ES256", RFC 7518 §3.4). OpenSSL 3 reads and writes the PEM files and signs with
// P-256; Ed25519 signs and verifies with libsodium, which bench/jwt measured at less than half
// OpenSSL's time per signature and per verification.
//
// The key is immutable once made, so one instance is shared by every I/O thread. Signatures are
// in JOSE form: Ed25519's 64 bytes, and for P-256 the raw R‖S pair (32 + 32 bytes), not the DER
// structure OpenSSL produces and expects; the conversion happens here and nowhere else.
//
// The key id (`kid`) is the RFC 7638 thumbprint of the public JWK: the base64url SHA-256 of its
// required members in lexicographic order, so anyone holding the JWKS can recompute it.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "kit/util/enum_names.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace kit::json {
class Writer;
}

namespace kit::security {

enum class KeyType { ed25519, p256 };
inline constexpr util::EnumNames<KeyType, 2> kKeyTypeNames{{"Ed25519", "P-256"}};

class SigningKey {
 public:
  // PEM files bigger than this are refused before parsing (an Ed25519 PKCS#8 PEM is 119 bytes).
  static constexpr std::size_t kMaxPemBytes = 16 * 1024;

  // A new random key.
  static SigningKey generate(KeyType type);

  // Parses an unencrypted PEM private key ("PRIVATE KEY" PKCS#8, or SEC1 "EC PRIVATE KEY").
  // Throws std::invalid_argument when it is not one, is encrypted, or is of another type or
  // curve; the message never contains key material. Never prompts for a passphrase.
  static SigningKey from_pem(std::string_view pem);

  KeyType type() const noexcept { return type_; }
  // The RFC 7638 thumbprint, base64url without padding (43 characters).
  const std::string& kid() const noexcept { return kid_; }

  // The private key as a PKCS#8 PEM (for `keys generate`).
  std::string private_pem() const;

  // The JOSE signature of `input` (64 bytes for both types). Thread-safe.
  std::string sign(std::string_view input) const;
  // Whether `signature` (JOSE form) is a valid signature of `input`. Thread-safe; never throws
  // for bad input.
  bool verify(std::string_view input, std::string_view signature) const;

  // Writes the public JWK: kty, crv, x (and y), plus use "sig", alg and kid.
  void write_public_jwk(json::Writer& out, std::string_view alg) const;

 private:
  struct Ed25519Pair;  // libsodium's secret key (seed and public key), wiped when freed

  SigningKey(std::shared_ptr<evp_pkey_st> key, KeyType type);

  std::shared_ptr<evp_pkey_st> key_;
  std::shared_ptr<const Ed25519Pair> ed25519_;  // Ed25519 only
  KeyType type_;
  std::string x_;  // base64url public coordinates
  std::string y_;  // P-256 only
  std::string kid_;
};

}  // namespace kit::security

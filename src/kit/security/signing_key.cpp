#include "kit/security/signing_key.hpp"

#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sodium.h>

#include "kit/json/writer.hpp"
#include "kit/security/base64url.hpp"
#include "kit/security/sodium.hpp"

namespace kit::security {
namespace {

constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::size_t kSignatureBytes = 64;  // Ed25519, and R‖S for P-256

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// A passphrase callback that refuses: an encrypted key is an error, never a terminal prompt.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string_view bytes_of(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

const unsigned char* data_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::optional<KeyType> key_type_of(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") == 1) return KeyType::ed25519;
  if (EVP_PKEY_is_a(key, "EC") != 1) return std::nullopt;
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                     &length) != 1) {
    return std::nullopt;
  }
  const std::string_view name(group.data(), length);
  if (name == "prime256v1" || name == "P-256" || name == "secp256r1") return KeyType::p256;
  return std::nullopt;
}

std::string coordinate(const EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) {
    throw std::runtime_error("cannot read the public key of a P-256 key");
  }
  const BnPtr bn(raw);
  std::array<unsigned char, kP256CoordinateBytes> out{};
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) {
    throw std::runtime_error("a P-256 coordinate does not fit 32 bytes");
  }
  return base64url_encode(bytes_of(out.data(), out.size()));
}

std::string sha256(std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(bytes_of(digest.data(), size));
}

// ECDSA-Sig-Value (DER) -> R‖S, each left-padded to 32 bytes.
std::string der_to_jose(std::string_view der) {
  const unsigned char* p = data_of(der);
  const EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw std::runtime_error("OpenSSL returned an unreadable ECDSA signature");
  std::array<unsigned char, kSignatureBytes> out{};
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), kP256CoordinateBytes) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + kP256CoordinateBytes,
                   kP256CoordinateBytes) < 0) {
    throw std::runtime_error("an ECDSA signature component does not fit 32 bytes");
  }
  return std::string(bytes_of(out.data(), out.size()));
}

// R‖S -> DER, or empty when `jose` is not 64 bytes.
std::string jose_to_der(std::string_view jose) {
  if (jose.size() != kSignatureBytes) return {};
  BnPtr r(BN_bin2bn(data_of(jose), kP256CoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(data_of(jose) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig) throw std::bad_alloc();
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) throw std::bad_alloc();
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) throw std::bad_alloc();
  std::string out(bytes_of(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return out;
}

}  // namespace

struct SigningKey::Ed25519Pair {
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret{};
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
  Ed25519Pair() = default;
  Ed25519Pair(const Ed25519Pair&) = delete;
  Ed25519Pair& operator=(const Ed25519Pair&) = delete;
  ~Ed25519Pair() { sodium_memzero(secret.data(), secret.size()); }
};

SigningKey::SigningKey(std::shared_ptr<evp_pkey_st> key, KeyType type)
    : key_(std::move(key)), type_(type) {
  json::Writer thumbprint_input;  // RFC 7638 §3.2: required members only, sorted, no spaces
  if (type_ == KeyType::ed25519) {
    ensure_sodium_initialized();
    auto pair = std::make_shared<Ed25519Pair>();
    std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
    std::size_t size = seed.size();
    const bool read =
        EVP_PKEY_get_raw_private_key(key_.get(), seed.data(), &size) == 1 && size == seed.size();
    const bool derived = read && crypto_sign_seed_keypair(pair->public_key.data(),
                                                          pair->secret.data(), seed.data()) == 0;
    sodium_memzero(seed.data(), seed.size());
    if (!derived) throw std::runtime_error("cannot read the private key of an Ed25519 key");
    x_ = base64url_encode(bytes_of(pair->public_key.data(), pair->public_key.size()));
    ed25519_ = std::move(pair);
    thumbprint_input.begin_object()
        .field("crv", std::string_view("Ed25519"))
        .field("kty", std::string_view("OKP"))
        .field("x", x_)
        .end_object();
  } else {
    x_ = coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X);
    y_ = coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
    thumbprint_input.begin_object()
        .field("crv", std::string_view("P-256"))
        .field("kty", std::string_view("EC"))
        .field("x", x_)
        .field("y", y_)
        .end_object();
  }
  kid_ = base64url_encode(sha256(thumbprint_input.str()));
}

SigningKey SigningKey::generate(KeyType type) {
  EVP_PKEY* key = type == KeyType::ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) throw std::runtime_error("key generation failed");
  return SigningKey(own(key), type);
}

SigningKey SigningKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) throw std::invalid_argument("is larger than 16 KiB");
  const BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::bad_alloc();
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  ERR_clear_error();  // the reason stays out of messages: it may quote the input
  if (raw == nullptr) {
    throw std::invalid_argument("is not an unencrypted PEM private key");
  }
  auto key = own(raw);
  const auto type = key_type_of(key.get());
  if (!type) throw std::invalid_argument("is neither an Ed25519 nor a P-256 private key");
  // A SEC1 file carries the public point beside the private scalar; if they disagree, the
  // published JWK would not verify the tokens we sign. Check the pair before trusting it.
  const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!check) throw std::bad_alloc();
  const bool consistent = EVP_PKEY_pairwise_check(check.get()) == 1;
  ERR_clear_error();
  if (!consistent)
    throw std::invalid_argument("holds a public key that does not match its private key");
  return SigningKey(std::move(key), *type);
}

std::string SigningKey::private_pem() const {
  const BioPtr bio(BIO_new(BIO_s_secmem()));  // cleared when freed
  if (!bio) throw std::bad_alloc();
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("cannot encode the private key as PEM");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string SigningKey::sign(std::string_view input) const {
  if (ed25519_) {
    std::array<unsigned char, crypto_sign_BYTES> signature{};
    crypto_sign_detached(signature.data(), nullptr, data_of(input), input.size(),
                         ed25519_->secret.data());
    return std::string(bytes_of(signature.data(), signature.size()));
  }
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::bad_alloc();
  // P-256 from here on: ECDSA over SHA-256, DER out of OpenSSL.
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    throw std::runtime_error("signature initialisation failed");
  }
  std::array<unsigned char, 80> out{};  // a P-256 DER signature is at most 72 bytes
  std::size_t size = out.size();
  if (EVP_DigestSign(ctx.get(), out.data(), &size, data_of(input), input.size()) != 1) {
    throw std::runtime_error("signing failed");
  }
  return der_to_jose(bytes_of(out.data(), size));
}

bool SigningKey::verify(std::string_view input, std::string_view signature) const {
  if (signature.size() != kSignatureBytes) return false;
  if (ed25519_) {
    return crypto_sign_verify_detached(data_of(signature), data_of(input), input.size(),
                                       ed25519_->public_key.data()) == 0;
  }
  const std::string der = jose_to_der(signature);
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::bad_alloc();
  const bool ok =
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), data_of(der), der.size(), data_of(input), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

void SigningKey::write_public_jwk(json::Writer& out, std::string_view alg) const {
  out.begin_object();
  if (type_ == KeyType::ed25519) {
    out.field("kty", std::string_view("OKP")).field("crv", std::string_view("Ed25519"));
    out.field("x", x_);
  } else {
    out.field("kty", std::string_view("EC")).field("crv", std::string_view("P-256"));
    out.field("x", x_).field("y", y_);
  }
  out.field("use", std::string_view("sig")).field("alg", alg).field("kid", kid_);
  out.end_object();
}

}  // namespace kit::security

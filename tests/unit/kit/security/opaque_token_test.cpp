// Opaque tokens (kit/security/opaque_token.hpp): 256 random bits as base64url, their SHA-256, and
// a successor sealed so that only a holder of the key token can open it.
#include "kit/security/opaque_token.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "kit/security/base64url.hpp"

namespace kit::security {
namespace {

TEST(OpaqueToken, IsThirtyTwoRandomBytesAsBase64UrlWithItsHash) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const OpaqueToken t = new_opaque_token();
    EXPECT_EQ(t.token.size(), 43u);
    const auto bytes = base64url_decode(t.token);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(bytes->size(), 32u);
    EXPECT_EQ(t.hash, opaque_token_hash(t.token));
    EXPECT_TRUE(seen.insert(t.token).second);
  }
}

TEST(OpaqueToken, HashIsSha256HexOfTheText) {
  // SHA-256("abc") from FIPS 180-2.
  EXPECT_EQ(opaque_token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(opaque_token_hash("").size(), 64u);
}

TEST(OpaqueToken, ASealedSuccessorOpensOnlyWithTheKeyToken) {
  const OpaqueToken key = new_opaque_token();
  const OpaqueToken successor = new_opaque_token();
  const std::string sealed = seal_with_token(successor.token, key.token);
  EXPECT_EQ(sealed.size(), 64u);
  EXPECT_NE(sealed, key.hash);
  EXPECT_NE(sealed, successor.hash);
  EXPECT_EQ(sealed.find(successor.token), std::string::npos);
  EXPECT_EQ(open_with_token(sealed, key.token), successor.token);
  const OpaqueToken stranger = new_opaque_token();
  const auto wrong = open_with_token(sealed, stranger.token);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_NE(*wrong, successor.token);
}

TEST(OpaqueToken, MalformedInputIsRefused) {
  const OpaqueToken key = new_opaque_token();
  EXPECT_FALSE(open_with_token("", key.token).has_value());
  EXPECT_FALSE(open_with_token(std::string(64, 'g'), key.token).has_value());
  EXPECT_FALSE(open_with_token(std::string(63, 'a'), key.token).has_value());
  EXPECT_THROW(seal_with_token("not a token", key.token), std::invalid_argument);
  EXPECT_THROW(seal_with_token("AAAA", key.token), std::invalid_argument);
}

}  // namespace
}  // namespace kit::security

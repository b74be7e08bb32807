#include "kit/security/base64url.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using kit::security::base64url_decode;
using kit::security::base64url_encode;

// RFC 4648 §10 test vectors, without their padding.
TEST(Base64Url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Url, DecodesRfc4648Vectors) {
  EXPECT_EQ(base64url_decode(""), std::string());
  EXPECT_EQ(base64url_decode("Zg"), "f");
  EXPECT_EQ(base64url_decode("Zm8"), "fo");
  EXPECT_EQ(base64url_decode("Zm9v"), "foo");
  EXPECT_EQ(base64url_decode("Zm9vYg"), "foob");
  EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
}

// 0xFB 0xFF 0xBF is "+/+/" in standard base64: the url alphabet must use '-' and '_'.
TEST(Base64Url, UsesTheUrlSafeAlphabet) {
  const std::string bytes{'\xFB', '\xFF', '\xBF'};
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), bytes);
}

TEST(Base64Url, RoundTripsEveryByteValueAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t length = 0; length <= all.size(); ++length) {
    const std::string bytes = all.substr(all.size() - length);
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.size(), (length * 4 + 2) / 3) << length;
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(base64url_decode(encoded), bytes) << length;
  }
}

TEST(Base64Url, RejectsPadding) {
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("Zg="));
  EXPECT_FALSE(base64url_decode("Zm8="));
  EXPECT_FALSE(base64url_decode("Zm9v===="));
  EXPECT_FALSE(base64url_decode("="));
}

TEST(Base64Url, RejectsCharactersOutsideTheUrlAlphabet) {
  EXPECT_FALSE(base64url_decode("+/+/"));  // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm9v+A"));
  EXPECT_FALSE(base64url_decode("Zm9v/A"));
  EXPECT_FALSE(base64url_decode("Zm9 v"));
  EXPECT_FALSE(base64url_decode("Zm9v\n"));
  EXPECT_FALSE(base64url_decode("Zm9v."));
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)));
  EXPECT_FALSE(base64url_decode("Zm9\xC3\xA9"));
}

TEST(Base64Url, RejectsImpossibleLengths) {
  EXPECT_FALSE(base64url_decode("Z"));
  EXPECT_FALSE(base64url_decode("Zm9vY"));
  EXPECT_FALSE(base64url_decode("Zm9vYmFyZ"));
}

// "Zg" is the only encoding of "f": "Zh".."Zv" carry the same byte plus non-zero unused bits.
TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  EXPECT_FALSE(base64url_decode("Zh"));
  EXPECT_FALSE(base64url_decode("Zv"));
  EXPECT_FALSE(base64url_decode("Zm9"));  // canonical "fo" is "Zm8"
  EXPECT_FALSE(base64url_decode("Zm_"));
  EXPECT_FALSE(base64url_decode("Zm9vYmF"));  // canonical "fooba" is "Zm9vYmE"
  EXPECT_TRUE(base64url_decode("Zm8"));
  EXPECT_TRUE(base64url_decode("Zm9vYmE"));
}

}  // namespace

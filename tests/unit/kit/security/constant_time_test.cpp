#include "kit/security/constant_time.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using kit::security::constant_time_equal;

TEST(ConstantTimeEqual, EqualBytesAreEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  const std::string with_nul("a\0b", 3);
  EXPECT_TRUE(constant_time_equal(with_nul, std::string("a\0b", 3)));
}

TEST(ConstantTimeEqual, AnyDifferingByteMakesThemUnequal) {
  const std::string reference(64, 'x');
  for (std::size_t i = 0; i < reference.size(); ++i) {
    std::string other = reference;
    other[i] = 'y';
    EXPECT_FALSE(constant_time_equal(reference, other)) << i;
  }
}

TEST(ConstantTimeEqual, ComparesPastEmbeddedNulBytes) {
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(ConstantTimeEqual, DifferentLengthsAreUnequal) {
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

}  // namespace

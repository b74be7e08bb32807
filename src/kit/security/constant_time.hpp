#pragma once
// Comparison of secrets (MACs, tokens) whose running time does not depend on where the inputs
// first differ, so an attacker cannot find a valid value byte by byte by timing the answers.
#include <string_view>

namespace kit::security {

// True when `a` and `b` hold the same bytes. The time depends only on the lengths: the length
// is not treated as secret (a MAC's length is public), so different lengths return at once.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace kit::security

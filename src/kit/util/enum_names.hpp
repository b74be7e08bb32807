#pragma once
// The names of an enum whose values are 0, 1, … N-1 in declaration order, in one table that
// serves printing (`names(value)`) and parsing (`names.parse(text)`), so that a name is written
// once. Example:
//   enum class Color { red, green };
//   inline constexpr kit::util::EnumNames<Color, 2> kColorNames{{"red", "green"}};
//   std::string_view to_string(Color c) { return kColorNames(c); }
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace kit::util {

template <class E, std::size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(std::array<std::string_view, N> names) noexcept : names_(names) {}

  // The value's name; empty for a value outside the table (a cast from a wrong integer).
  constexpr std::string_view operator()(E value) const noexcept {
    const auto index = static_cast<std::size_t>(value);
    return index < N ? names_[index] : std::string_view{};
  }

  // The value named exactly `name`.
  constexpr std::optional<E> parse(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      if (names_[i] == name) return static_cast<E>(i);
    }
    return std::nullopt;
  }

  constexpr const std::array<std::string_view, N>& names() const noexcept { return names_; }

 private:
  std::array<std::string_view, N> names_;
};

}  // namespace kit::util

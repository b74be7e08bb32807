#pragma once
// Declarative, typed access to settings with problem collection. A service's settings loader
// reads like a table:
//
//   kit::config::Reader r(source);
//   r.sensitive("API_KEY", Sensitivity::secret);
//   s.port = r.integer<std::uint16_t>("PORT", 8000, 0, 65535);
//   s.debug = r.boolean("DEBUG", false);
//   s.timeout = r.seconds("TIMEOUT_SECONDS", 30s, {.min = 1ms});
//   r.throw_if_any();  // one ConfigError with every problem
//
// A typed getter never throws: on a bad value it records "NAME: problem (got 'value')" and
// returns the fallback, so loading continues and every problem is found in one pass.
// A value that is empty or blank counts as not set (the default applies), which keeps
// `KEY=` lines and `${KEY:-}` templates harmless; list() is the exception (see there).
#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kit/config/mask.hpp"
#include "kit/config/problems.hpp"
#include "kit/config/source.hpp"
#include "kit/util/enum_names.hpp"

namespace kit::config {

struct DurationRange {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max{std::chrono::hours(24)};
};

class Reader {
 public:
  explicit Reader(const Source& source) : source_(source) {}

  // Declares how a setting's value may appear in problems (default: plain).
  Reader& sensitive(std::string_view name, Sensitivity sensitivity);
  Sensitivity sensitivity(std::string_view name) const;

  // The value exactly as set, blank or not; nullopt when not set.
  std::optional<std::string> raw(std::string_view name) const { return source_.get(name); }
  // The value when set and not blank.
  std::optional<std::string> value(std::string_view name) const;
  bool is_set(std::string_view name) const { return value(name).has_value(); }

  std::string text(std::string_view name, std::string fallback);
  bool boolean(std::string_view name, bool fallback);

  template <std::integral T>
  T integer(std::string_view name, T fallback, T min, T max) {
    return static_cast<T>(
        integer_in(name, static_cast<std::int64_t>(fallback), clamp(min), clamp(max)));
  }

  // Seconds as a decimal ("2.5"), returned in milliseconds.
  std::chrono::milliseconds seconds(std::string_view name, std::chrono::milliseconds fallback,
                                    DurationRange range);
  // Whole milliseconds ("5000").
  std::chrono::milliseconds milliseconds(std::string_view name, std::chrono::milliseconds fallback,
                                         DurationRange range);

  // One of the enum's `names`, matched case-insensitively.
  template <class E, std::size_t N>
  E one_of(std::string_view name, E fallback, const util::EnumNames<E, N>& names) {
    const auto v = value(name);
    if (!v) return fallback;
    for (std::size_t i = 0; i < N; ++i) {
      if (matches(*v, names.names()[i])) return static_cast<E>(i);
    }
    problem(name, "must be one of " + join({names.names().begin(), names.names().end()}));
    return fallback;
  }

  // A comma list. Unlike the scalars, a list that is set but empty is the empty list (so
  // `CORS_ALLOW_ORIGINS=` can switch a non-empty default off); not set gives the fallback.
  std::vector<std::string> list(std::string_view name, std::vector<std::string> fallback);

  // Records a problem about `name`, showing its current value (or "(not set)").
  void problem(std::string_view name, std::string_view message);
  // Records a problem about `name` without showing its value.
  void problem_without_value(std::string_view name, std::string_view message);

  Problems& problems() noexcept { return problems_; }
  const Problems& problems() const noexcept { return problems_; }
  void throw_if_any() const { problems_.throw_if_any(); }

 private:
  template <std::integral T>
  static std::int64_t clamp(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      return static_cast<std::int64_t>(v > kMax ? kMax : static_cast<std::uint64_t>(v));
    } else {
      return static_cast<std::int64_t>(v);
    }
  }
  std::int64_t integer_in(std::string_view name, std::int64_t fallback, std::int64_t min,
                          std::int64_t max);
  static bool matches(std::string_view value, std::string_view choice);
  static std::string join(const std::vector<std::string_view>& names);

  const Source& source_;
  std::map<std::string, Sensitivity, std::less<>> sensitivity_;  // uppercased names
  Problems problems_;
};

}  // namespace kit::config

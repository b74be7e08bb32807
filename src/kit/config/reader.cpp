#include "kit/config/reader.hpp"

#include "kit/config/parse.hpp"
#include "kit/util/text.hpp"

namespace kit::config {

Reader& Reader::sensitive(std::string_view name, Sensitivity s) {
  sensitivity_[util::ascii_uppercase(name)] = s;
  return *this;
}

Sensitivity Reader::sensitivity(std::string_view name) const {
  const auto it = sensitivity_.find(util::ascii_uppercase(name));
  return it == sensitivity_.end() ? Sensitivity::plain : it->second;
}

std::optional<std::string> Reader::value(std::string_view name) const {
  auto v = source_.get(name);
  if (!v || trim(*v).empty()) return std::nullopt;
  return v;
}

std::string Reader::text(std::string_view name, std::string fallback) {
  auto v = value(name);
  return v ? std::move(*v) : std::move(fallback);
}

bool Reader::boolean(std::string_view name, bool fallback) {
  const auto v = value(name);
  if (!v) return fallback;
  if (const auto b = parse_bool(*v)) return *b;
  problem(name, "must be a boolean: true/false, 1/0, yes/no or on/off");
  return fallback;
}

std::int64_t Reader::integer_in(std::string_view name, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) {
  const auto v = value(name);
  if (!v) return fallback;
  const auto n = parse_integer(*v);
  if (n && *n >= min && *n <= max) return *n;
  problem(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return fallback;
}

namespace {

std::string describe_range(const DurationRange& range, bool in_seconds) {
  const auto show = [&](std::chrono::milliseconds d) {
    return in_seconds ? format_seconds(d) : std::to_string(d.count());
  };
  // A 1 ms minimum is how callers say "> 0": phrase it the way the documentation does.
  const std::string lower = in_seconds && range.min == std::chrono::milliseconds(1)
                                ? "greater than 0"
                                : "at least " + show(range.min);
  return lower + " and at most " + show(range.max);
}

}  // namespace

std::chrono::milliseconds Reader::seconds(std::string_view name, std::chrono::milliseconds fallback,
                                          DurationRange range) {
  const auto v = value(name);
  if (!v) return fallback;
  const auto max_seconds = std::chrono::duration_cast<std::chrono::seconds>(range.max).count() + 1;
  const auto d = parse_seconds(*v, max_seconds);
  if (d && *d >= range.min && *d <= range.max) return *d;
  problem(name, "must be a number of seconds " + describe_range(range, true));
  return fallback;
}

std::chrono::milliseconds Reader::milliseconds(std::string_view name,
                                               std::chrono::milliseconds fallback,
                                               DurationRange range) {
  const auto v = value(name);
  if (!v) return fallback;
  const auto n = parse_integer(*v);
  if (n && *n >= range.min.count() && *n <= range.max.count()) return std::chrono::milliseconds(*n);
  problem(name, "must be a whole number of milliseconds " + describe_range(range, false));
  return fallback;
}

std::vector<std::string> Reader::list(std::string_view name, std::vector<std::string> fallback) {
  const auto v = raw(name);
  if (!v) return fallback;
  return split_list(*v);
}

void Reader::problem(std::string_view name, std::string_view message) {
  const auto v = raw(name);
  problems_.add(name, message, v ? std::optional<std::string_view>(*v) : std::nullopt,
                sensitivity(name));
}

void Reader::problem_without_value(std::string_view name, std::string_view message) {
  problems_.add(std::string(name) + ": " + std::string(message));
}

bool Reader::matches(std::string_view value, std::string_view choice) {
  return util::iequals_ascii(trim(value), choice);
}

std::string Reader::join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace kit::config

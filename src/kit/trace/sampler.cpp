#include "kit/trace/sampler.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "kit/util/text.hpp"

namespace kit::trace {
namespace {

// The trace id's last 56 bits, the part W3C Trace Context level 2 asks to be random.
std::optional<std::uint64_t> random_part(std::string_view trace_id) noexcept {
  if (trace_id.size() != 32) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : trace_id.substr(18)) {
    const int d = util::hex_value(c);
    if (d < 0) return std::nullopt;
    value = (value << 4U) | static_cast<std::uint64_t>(d);
  }
  return value;
}

}  // namespace

std::optional<Sampler> Sampler::parse(std::string_view name, std::string_view arg,
                                      std::string& error) {
  struct Known {
    std::string_view name;
    Root root;
    bool parent_based;
  };
  static constexpr Known kKnown[] = {{"always_on", Root::always_on, false},
                                     {"always_off", Root::always_off, false},
                                     {"traceidratio", Root::ratio, false},
                                     {"parentbased_always_on", Root::always_on, true},
                                     {"parentbased_always_off", Root::always_off, true},
                                     {"parentbased_traceidratio", Root::ratio, true}};
  if (name.empty()) return Sampler();
  for (const Known& k : kKnown) {
    if (k.name != name) continue;
    double ratio = 1.0;
    if (k.root == Root::ratio && !arg.empty()) {
      const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), ratio);
      if (ec != std::errc() || end != arg.data() + arg.size() || !std::isfinite(ratio) ||
          ratio < 0.0 || ratio > 1.0) {
        error = "OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1";
        return std::nullopt;
      }
    }
    return Sampler(k.root, k.parent_based, ratio);
  }
  error =
      "OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, "
      "parentbased_always_on, parentbased_always_off, parentbased_traceidratio";
  return std::nullopt;
}

bool Sampler::should_sample(std::string_view trace_id,
                            std::optional<bool> parent_sampled) const noexcept {
  if (parent_based_ && parent_sampled) return *parent_sampled;
  switch (root_) {
    case Root::always_on:
      return true;
    case Root::always_off:
      return false;
    case Root::ratio: {
      if (ratio_ >= 1.0) return true;
      if (ratio_ <= 0.0) return false;
      const std::optional<std::uint64_t> value = random_part(trace_id);
      if (!value) return false;
      // Kept when the random part is below ratio × 2^56, compared as integers (a double holds
      // only 53 bits).
      constexpr double kSpace = 72057594037927936.0;  // 2^56
      return *value < static_cast<std::uint64_t>(ratio_ * kSpace);
    }
  }
  return false;
}

std::string Sampler::name() const {
  std::string out = parent_based_ ? "parentbased_" : "";
  switch (root_) {
    case Root::always_on:
      out += "always_on";
      break;
    case Root::always_off:
      out += "always_off";
      break;
    case Root::ratio:
      out += "traceidratio";
      break;
  }
  return out;
}

}  // namespace kit::trace

#pragma once
// Head sampling as the OpenTelemetry SDK environment variables name it (OTEL_TRACES_SAMPLER,
// OTEL_TRACES_SAMPLER_ARG): always_on, always_off, traceidratio, and the parentbased_ forms,
// which follow the incoming traceparent's sampled flag and apply their root sampler only to
// new traces. The ratio decision is a pure function of the trace id, so every service that
// uses the same rule keeps or drops the same traces.
#include <optional>
#include <string>
#include <string_view>

namespace kit::trace {

class Sampler {
 public:
  enum class Root { always_on, always_off, ratio };

  // The SDK's default: parentbased_always_on.
  Sampler() = default;
  Sampler(Root root, bool parent_based, double ratio = 1.0) noexcept
      : root_(root), parent_based_(parent_based), ratio_(ratio) {}

  // From the variables' values (empty name: the default). nullopt with `error` set for an
  // unknown name or an argument that is not a ratio in [0, 1] (the ratio samplers' argument
  // defaults to 1.0 when empty).
  static std::optional<Sampler> parse(std::string_view name, std::string_view arg,
                                      std::string& error);

  // Whether a span of `trace_id` (32 hex digits) is recorded and exported. `parent_sampled`:
  // the sampled flag of the incoming traceparent, nullopt for a new trace.
  bool should_sample(std::string_view trace_id, std::optional<bool> parent_sampled) const noexcept;

  // The variable's value for this sampler, e.g. "parentbased_traceidratio".
  std::string name() const;
  double ratio() const noexcept { return ratio_; }

 private:
  Root root_ = Root::always_on;
  bool parent_based_ = true;
  double ratio_ = 1.0;
};

}  // namespace kit::trace

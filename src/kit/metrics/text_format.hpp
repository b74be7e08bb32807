#pragma once
// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): one `# HELP` and one `# TYPE`
// line per family, then its samples as `name{label="value",...} value`, each line ending in
// '\n'. HELP text escapes `\` and newline; label values escape `\`, `"` and newline. Values
// are Go-style floats: shortest round-trip decimal, `+Inf`, `-Inf`, `NaN`.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kit::metrics {

enum class Type { counter, gauge, histogram };

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string_view to_string(Type type) noexcept;

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Label names: [a-zA-Z_][a-zA-Z0-9_]*, not "__…".
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

void append_escaped_help(std::string& out, std::string_view help);
void append_escaped_label_value(std::string& out, std::string_view value);
void append_value(std::string& out, double value);
void append_value(std::string& out, std::uint64_t value);

// Appends lines to a string. Label names and values are given as parallel spans; `extra` is
// one more label appended last (a histogram bucket's `le`), skipped when its name is empty.
class TextWriter {
 public:
  struct Label {
    std::string_view name;
    std::string_view value;
  };

  void family(std::string_view name, std::string_view help, Type type);

  template <class Value>
  void sample(std::string_view name, std::string_view suffix,
              std::span<const std::string> label_names, std::span<const std::string> label_values,
              Value value, Label extra = {}) {
    sample_start(name, suffix, label_names, label_values, extra);
    append_value(out_, value);
    out_ += '\n';
  }

  const std::string& str() const& noexcept { return out_; }
  std::string str() && noexcept { return std::move(out_); }

 private:
  void sample_start(std::string_view name, std::string_view suffix,
                    std::span<const std::string> label_names,
                    std::span<const std::string> label_values, Label extra);

  std::string out_;
};

}  // namespace kit::metrics

#pragma once
// A small, strict parser of the Prometheus text format 0.0.4 for tests (the unit tests of the
// kit's renderer and the end-to-end test of /metrics use it). Stricter than Prometheus where our
// output never needs the leniency: every family has exactly one HELP and one TYPE line before its
// samples, samples of a family are contiguous, no blank lines, no other comments, no timestamps,
// no trailing commas. It checks what a scraper relies on: names and label syntax, escapes,
// values, unique series, counters >= 0, and for histograms per label set: `le` buckets in
// increasing order with non-decreasing counts, ending in +Inf, `_count` equal to the +Inf bucket,
// and a `_sum`. Throws std::runtime_error naming the line.
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace metrics_test {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // with its suffix (_bucket, _sum, _count)
  Labels labels;
  double value = 0;
};

struct Family {
  std::string name;
  std::string help;
  std::string type;
  std::vector<Sample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;

  bool has(const std::string& name) const { return families.count(name) != 0; }
  const Family& family(const std::string& name) const {
    const auto it = families.find(name);
    if (it == families.end()) throw std::runtime_error("no metric family " + name);
    return it->second;
  }
  // The value of the series `name` (a sample name) with exactly `labels`; nullopt when absent.
  std::optional<double> value(const std::string& family_name, const std::string& sample_name,
                              const Labels& labels = {}) const {
    if (!has(family_name)) return std::nullopt;
    for (const auto& s : family(family_name).samples) {
      if (s.name == sample_name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
  std::optional<double> value(const std::string& name, const Labels& labels = {}) const {
    return value(name, name, labels);
  }
};

namespace detail {

inline bool metric_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

inline bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!metric_name_char(s[i], i == 0)) return false;
  }
  return true;
}

inline bool valid_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':' || !metric_name_char(s[i], i == 0)) return false;
  }
  return true;
}

inline double parse_value(std::string_view s) {
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    throw std::runtime_error("bad value '" + std::string(s) + "'");
  }
  return v;
}

// Undoes the HELP escapes (\\ and \n); with `quote`, also \" (label values).
inline std::string unescape(std::string_view s, bool quote) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) throw std::runtime_error("dangling backslash");
    if (s[i] == '\\') {
      out += '\\';
    } else if (s[i] == 'n') {
      out += '\n';
    } else if (quote && s[i] == '"') {
      out += '"';
    } else {
      throw std::runtime_error(std::string("unknown escape \\") + s[i]);
    }
  }
  return out;
}

// `name{a="x",b="y"} value` → sample (the value part is returned in `rest`).
inline Sample parse_sample(std::string_view line) {
  Sample s;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  s.name = std::string(line.substr(0, i));
  if (!valid_metric_name(s.name)) throw std::runtime_error("bad metric name '" + s.name + "'");
  if (i < line.size() && line[i] == '{') {
    ++i;
    if (i < line.size() && line[i] == '}') throw std::runtime_error("empty label braces");
    for (;;) {
      const std::size_t eq = line.find('=', i);
      if (eq == std::string_view::npos) throw std::runtime_error("label without '='");
      const std::string name(line.substr(i, eq - i));
      if (!valid_label_name(name)) throw std::runtime_error("bad label name '" + name + "'");
      if (eq + 1 >= line.size() || line[eq + 1] != '"') throw std::runtime_error("unquoted label");
      std::size_t j = eq + 2;
      while (j < line.size() && line[j] != '"') j += line[j] == '\\' ? 2 : 1;
      if (j >= line.size()) throw std::runtime_error("unterminated label value");
      if (!s.labels.emplace(name, unescape(line.substr(eq + 2, j - eq - 2), true)).second) {
        throw std::runtime_error("duplicate label " + name);
      }
      i = j + 1;
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      throw std::runtime_error("expected ',' or '}' after a label");
    }
  }
  if (i >= line.size() || line[i] != ' ') throw std::runtime_error("expected ' ' before the value");
  const std::string_view value = line.substr(i + 1);
  if (value.find(' ') != std::string_view::npos) throw std::runtime_error("unexpected timestamp");
  s.value = parse_value(value);
  return s;
}

inline std::string family_of(const std::string& sample, const std::string& current_family,
                             const std::string& type) {
  if (type == "histogram") {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (sample == current_family + suffix) return current_family;
    }
    return {};  // not one of its series: reported as a sample outside its family
  }
  return sample;
}

inline void check_histogram(const Family& f) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
    std::optional<double> sum, count;
  };
  std::map<Labels, Series> series;
  for (const auto& s : f.samples) {
    Labels key = s.labels;
    if (s.name == f.name + "_bucket") {
      const auto le = key.find("le");
      if (le == key.end()) throw std::runtime_error(f.name + ": bucket without le");
      const double bound = parse_value(le->second);
      key.erase(le);
      series[key].buckets.emplace_back(bound, s.value);
    } else if (s.name == f.name + "_sum") {
      series[key].sum = s.value;
    } else {
      series[key].count = s.value;
    }
  }
  for (const auto& [labels, h] : series) {
    if (h.buckets.empty() || !h.sum || !h.count) {
      throw std::runtime_error(f.name + ": a series lacks buckets, _sum or _count");
    }
    for (std::size_t i = 1; i < h.buckets.size(); ++i) {
      if (!(h.buckets[i].first > h.buckets[i - 1].first)) {
        throw std::runtime_error(f.name + ": le bounds not increasing");
      }
      if (h.buckets[i].second < h.buckets[i - 1].second) {
        throw std::runtime_error(f.name + ": bucket counts decrease");
      }
    }
    if (!std::isinf(h.buckets.back().first)) throw std::runtime_error(f.name + ": no +Inf bucket");
    if (*h.count != h.buckets.back().second) {
      throw std::runtime_error(f.name + ": _count differs from the +Inf bucket");
    }
  }
}

}  // namespace detail

inline Exposition parse_exposition(std::string_view text) {
  Exposition out;
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("no final newline");
  std::set<std::string> series;  // name + labels, to find duplicates
  Family* current = nullptr;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    try {
      if (line.empty()) throw std::runtime_error("blank line");
      if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
        const std::string_view rest = line.substr(7);
        const std::size_t space = rest.find(' ');
        if (space == std::string_view::npos) throw std::runtime_error("HELP/TYPE without text");
        const std::string name(rest.substr(0, space));
        if (!detail::valid_metric_name(name)) throw std::runtime_error("bad name " + name);
        auto [it, fresh] = out.families.try_emplace(name);
        Family& f = it->second;
        if (!fresh && &f != current) throw std::runtime_error(name + " declared twice");
        if (!f.samples.empty()) throw std::runtime_error(name + ": HELP/TYPE after samples");
        f.name = name;
        current = &f;
        if (line[2] == 'H') {
          if (!f.help.empty()) throw std::runtime_error(name + ": second HELP");
          f.help = detail::unescape(rest.substr(space + 1), false);
          if (f.help.empty()) throw std::runtime_error(name + ": empty HELP");
        } else {
          if (!f.type.empty()) throw std::runtime_error(name + ": second TYPE");
          f.type = std::string(rest.substr(space + 1));
          static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary",
                                                    "untyped"};
          if (kTypes.count(f.type) == 0) throw std::runtime_error("unknown type " + f.type);
        }
        continue;
      }
      if (line.starts_with("#")) throw std::runtime_error("unexpected comment");
      Sample s = detail::parse_sample(line);
      if (current == nullptr || current->help.empty() || current->type.empty() ||
          detail::family_of(s.name, current->name, current->type) != current->name) {
        throw std::runtime_error(s.name + ": sample outside its family's HELP/TYPE block");
      }
      std::string key = s.name;
      for (const auto& [k, v] : s.labels) key += "\x1f" + k + "=" + v;
      if (!series.insert(key).second) throw std::runtime_error(s.name + ": duplicate series");
      if (current->type == "counter" && !(s.value >= 0)) {
        throw std::runtime_error(s.name + ": negative or NaN counter");
      }
      current->samples.push_back(std::move(s));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("line " + std::to_string(line_no) + ": " + e.what() + " in '" +
                               std::string(line) + "'");
    }
  }
  for (const auto& [name, f] : out.families) {
    if (f.help.empty() || f.type.empty()) throw std::runtime_error(name + ": HELP or TYPE missing");
    if (f.type == "histogram") detail::check_histogram(f);
  }
  return out;
}

}  // namespace metrics_test

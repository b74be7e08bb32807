// Fuzzes the `.env` parser (kit/config/dotenv) and the settings source built on it: the file is
// operator input, but a broken one must end in a ConfigError (exit 78), never a crash. Also
// checked: accepted keys follow the documented grammar and are found by the source; problems
// name the file and a real line number, and stay short because they must never repeat a line's
// text (it may hold a secret).
#include <cstddef>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "kit/config/dotenv.hpp"
#include "kit/config/error.hpp"
#include "kit/config/source.hpp"

namespace {

constexpr std::string_view kFileName = "fuzz.env";
// "fuzz.env:<line>: <fixed message>": the longest fixed message is about 70 characters.
constexpr std::size_t kMaxProblemBytes = 160;

std::size_t line_count(std::string_view s) {
  std::size_t lines = 1;
  for (char c : s) lines += c == '\n' ? 1 : 0;
  return lines;
}

// [A-Za-z_][A-Za-z0-9_]* (no std::regex: its recursion overflows the stack on 64 KiB keys).
bool valid_key(std::string_view key) {
  static constexpr std::string_view kKeyChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789";
  return !key.empty() && kKeyChars.substr(0, 53).find(key.front()) != std::string_view::npos &&
         key.find_first_not_of(kKeyChars) == std::string_view::npos;
}

bool problem_is_located(const std::string& problem, std::size_t lines) {
  static const std::regex located("fuzz\\.env:([0-9]{1,9}): .*");
  static const std::regex whole_file("fuzz\\.env: .*");
  std::smatch m;
  if (std::regex_match(problem, m, located)) {
    const auto line = std::stoul(m[1].str());
    return line >= 1 && line <= lines;
  }
  return std::regex_match(problem, whole_file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);

  try {
    const auto entries = kit::config::parse_dotenv(content, kFileName);
    const auto source = kit::config::Source::from({}, std::string(content), std::string(kFileName));
    std::size_t previous_line = 0;
    for (const auto& entry : entries) {
      FUZZ_CHECK(valid_key(entry.key));
      FUZZ_CHECK(entry.line > previous_line && entry.line <= line_count(content));
      previous_line = entry.line;
      FUZZ_CHECK(source.get(entry.key).has_value());
    }
  } catch (const kit::config::ConfigError& e) {
    FUZZ_CHECK(!e.problems().empty());
    for (const auto& problem : e.problems()) {
      FUZZ_CHECK(problem.size() <= kMaxProblemBytes);
      FUZZ_CHECK(problem_is_located(problem, line_count(content)));
    }
  }
  return 0;
}

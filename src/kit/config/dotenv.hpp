#pragma once
// The `.env` file format (docs/configuration.md "The `.env` file"), parsed line by line:
//
//   # comment                      blank lines are skipped
//   KEY=value                      whitespace around KEY and '=' is tolerated
//   export KEY=value               the shell's `export ` prefix is accepted
//   KEY=value # comment            ` #` (blank before '#') starts a comment in an unquoted value
//   KEY='literal $ \n # text'      single quotes: taken literally
//   KEY="a\nb \"c\" \\ \t"         double quotes: \n \t \r \" \\ escapes (others kept as typed)
//
// Deliberately not supported: variable interpolation (`${OTHER}`) and values spanning lines;
// both surprise more often than they help. Keys are [A-Za-z_][A-Za-z0-9_]*; a later duplicate
// overrides an earlier one. Messages never repeat a line's text, which may hold a secret.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kit::config {

inline constexpr std::size_t kMaxDotenvBytes = 1024 * 1024;    // a larger file is refused
inline constexpr std::size_t kMaxDotenvLineBytes = 64 * 1024;  // a longer line is refused

struct DotenvEntry {
  std::string key;    // as written (not case-folded)
  std::string value;  // unquoted and unescaped
  std::size_t line;   // 1-based
};

// Parses `content`; every malformed line is reported, as "<file_name>:<line>: <problem>", in one
// ConfigError thrown after the whole file has been read.
std::vector<DotenvEntry> parse_dotenv(std::string_view content, std::string_view file_name);

}  // namespace kit::config

#include "kit/config/dotenv.hpp"

#include <optional>

#include "kit/config/error.hpp"

namespace kit::config {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}
bool is_key_start(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_key_char(char c) noexcept {
  return is_key_start(c) || (c >= '0' && c <= '9');
}

std::string_view skip_spaces(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view trim_spaces(std::string_view s) noexcept {
  s = skip_spaces(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_valid_key(std::string_view key) noexcept {
  if (key.empty() || !is_key_start(key.front())) return false;
  for (char c : key)
    if (!is_key_char(c)) return false;
  return true;
}

// What may follow a closing quote: blanks, then nothing or a comment.
bool only_comment_left(std::string_view rest) noexcept {
  rest = skip_spaces(rest);
  return rest.empty() || rest.front() == '#';
}

struct LineResult {
  std::optional<DotenvEntry> entry;  // nullopt for blank and comment lines
  std::string error;                 // non-empty when the line is malformed
};

LineResult error(std::string message) {
  return {std::nullopt, std::move(message)};
}

LineResult parse_value(std::string key, std::string_view raw) {
  const auto start = skip_spaces(raw);
  if (!start.empty() && start.front() == '\'') {
    const auto close = start.find('\'', 1);
    if (close == std::string_view::npos) return error("unterminated single-quoted value");
    if (!only_comment_left(start.substr(close + 1)))
      return error("unexpected characters after the closing quote");
    return {DotenvEntry{std::move(key), std::string(start.substr(1, close - 1)), 0}, {}};
  }
  if (!start.empty() && start.front() == '"') {
    std::string value;
    for (std::size_t i = 1; i < start.size(); ++i) {
      const char c = start[i];
      if (c == '"') {
        if (!only_comment_left(start.substr(i + 1)))
          return error("unexpected characters after the closing quote");
        return {DotenvEntry{std::move(key), std::move(value), 0}, {}};
      }
      if (c == '\\' && i + 1 < start.size()) {
        const char next = start[++i];
        switch (next) {
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          case 'r':
            value += '\r';
            break;
          case '"':
            value += '"';
            break;
          case '\\':
            value += '\\';
            break;
          default:  // e.g. a Windows path: keep what was typed
            value += '\\';
            value += next;
        }
        continue;
      }
      value += c;
    }
    return error("unterminated double-quoted value");
  }
  // Unquoted: a '#' starts a comment only after a blank, so `pa#ss` stays intact.
  std::size_t end = raw.size();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '#' && i > 0 && is_space(raw[i - 1])) {
      end = i;
      break;
    }
  }
  return {DotenvEntry{std::move(key), std::string(trim_spaces(raw.substr(0, end))), 0}, {}};
}

LineResult parse_line(std::string_view line) {
  line = skip_spaces(line);
  if (line.empty() || line.front() == '#') return {};
  constexpr std::string_view kExport = "export";
  if (line.starts_with(kExport) && line.size() > kExport.size() && is_space(line[kExport.size()])) {
    line = skip_spaces(line.substr(kExport.size()));
  }
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return error("expected KEY=VALUE");
  const auto key = trim_spaces(line.substr(0, eq));
  if (key.empty()) return error("expected KEY=VALUE");
  if (!is_valid_key(key))
    return error("invalid key: use letters, digits and '_', not starting with a digit");
  return parse_value(std::string(key), line.substr(eq + 1));
}

std::string located(std::string_view file_name, std::size_t line, std::string_view message) {
  std::string out(file_name);
  out.append(":").append(std::to_string(line)).append(": ").append(message);
  return out;
}

}  // namespace

std::vector<DotenvEntry> parse_dotenv(std::string_view content, std::string_view file_name) {
  if (content.size() > kMaxDotenvBytes)
    throw ConfigError({std::string(file_name) + ": file is larger than 1 MiB"});
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // UTF-8 BOM from editors

  std::vector<DotenvEntry> entries;
  std::vector<std::string> problems;
  std::size_t line_number = 0;
  while (!content.empty()) {
    ++line_number;
    const auto newline = content.find('\n');
    auto line = content.substr(0, newline);
    content.remove_prefix(newline == std::string_view::npos ? content.size() : newline + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);  // CRLF files

    if (line.size() > kMaxDotenvLineBytes) {
      problems.push_back(located(file_name, line_number, "line is longer than 64 KiB"));
      continue;
    }
    if (line.find('\0') != std::string_view::npos) {
      problems.push_back(located(file_name, line_number, "line contains a NUL byte"));
      continue;
    }
    auto result = parse_line(line);
    if (!result.error.empty()) {
      problems.push_back(located(file_name, line_number, result.error));
    } else if (result.entry) {
      result.entry->line = line_number;
      entries.push_back(std::move(*result.entry));
    }
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return entries;
}

}  // namespace kit::config

#include "kit/config/source.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

#include "kit/config/dotenv.hpp"
#include "kit/config/error.hpp"
#include "kit/config/parse.hpp"
#include "kit/util/text.hpp"

namespace kit::config {
namespace {

constexpr std::string_view kEnvFileVariable = "ENV_FILE";
constexpr std::string_view kDefaultEnvFile = ".env";

// Folds names to uppercase. `pairs` is in precedence order for equal spellings (later wins,
// as in a .env file with a repeated key); across spellings the uppercase one wins, else the
// smallest spelling, independent of input order.
template <class Pairs>
std::map<std::string, std::string, std::less<>> fold_names(const Pairs& pairs) {
  std::map<std::string, std::string, std::less<>> values;
  std::map<std::string, std::string, std::less<>> spelling;  // which spelling each entry has
  for (const auto& [name, value] : pairs) {
    auto upper = util::ascii_uppercase(name);
    auto it = spelling.find(upper);
    const bool take = it == spelling.end() || it->second == name ||
                      (it->second != upper && (name == upper || name < it->second));
    if (!take) continue;
    spelling[upper] = name;
    values[std::move(upper)] = value;
  }
  return values;
}

// Reads the .env file, refusing one above the size limit without reading all of it.
// Returns nullopt when the file does not exist.
std::optional<std::string> read_dotenv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return std::nullopt;
    throw ConfigError(
        {std::string(kEnvFileVariable) + ": cannot read '" + path + "': " + std::strerror(err)});
  }
  std::string content(kMaxDotenvBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) {
    // e.g. a directory: opening succeeds, reading fails with EISDIR.
    throw ConfigError({std::string(kEnvFileVariable) + ": cannot read '" + path + "'"});
  }
  content.resize(static_cast<std::size_t>(in.gcount()));
  return content;
}

}  // namespace

Source::Source(Layer env, Layer dotenv, std::string dotenv_path, bool dotenv_found)
    : env_(std::move(env)),
      dotenv_(std::move(dotenv)),
      dotenv_path_(std::move(dotenv_path)),
      dotenv_found_(dotenv_found) {}

Source Source::from(std::map<std::string, std::string> env, std::string dotenv_content,
                    std::string dotenv_name) {
  const auto entries = parse_dotenv(dotenv_content, dotenv_name);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(entries.size());
  for (const auto& e : entries) pairs.emplace_back(e.key, e.value);
  return Source(fold_names(env), fold_names(pairs), std::move(dotenv_name),
                !dotenv_content.empty());
}

Source Source::from_environment() {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    pairs.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  auto env = fold_names(pairs);

  std::string path(kDefaultEnvFile);
  if (auto it = env.find(kEnvFileVariable); it != env.end() && !trim(it->second).empty())
    path = std::string(trim(it->second));
  const auto content = read_dotenv(path);

  Layer dotenv;
  if (content) {
    const auto entries = parse_dotenv(*content, path);
    std::vector<std::pair<std::string, std::string>> dotenv_pairs;
    dotenv_pairs.reserve(entries.size());
    for (const auto& e : entries) dotenv_pairs.emplace_back(e.key, e.value);
    dotenv = fold_names(dotenv_pairs);
  }
  return Source(std::move(env), std::move(dotenv), std::move(path), content.has_value());
}

std::optional<std::string> Source::get(std::string_view name) const {
  const auto upper = util::ascii_uppercase(name);
  if (auto it = env_.find(upper); it != env_.end()) return it->second;
  if (auto it = dotenv_.find(upper); it != dotenv_.end()) return it->second;
  return std::nullopt;
}

std::optional<Origin> Source::origin(std::string_view name) const {
  const auto upper = util::ascii_uppercase(name);
  if (env_.contains(upper)) return Origin::environment;
  if (dotenv_.contains(upper)) return Origin::dotenv;
  return std::nullopt;
}

}  // namespace kit::config

#pragma once
// Where setting values come from (docs/configuration.md "Where values come from"): the process
// environment over a `.env` file (path from ENV_FILE, default ./.env; a missing file is fine).
// Names are case-insensitive: they are stored uppercased. When one layer holds several spellings of
// a name (PORT and port), the exact uppercase spelling wins, otherwise the first in byte order, so
// the result never depends on the order of `environ`.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kit::config {

enum class Origin { environment, dotenv };

class Source {
 public:
  // Reads `environ` and the .env file. Throws ConfigError when the file is malformed, too
  // large or exists but cannot be read.
  static Source from_environment();

  // For tests and tools: `env` plays the process environment, `dotenv_content` the file.
  // Throws ConfigError on malformed content, naming `dotenv_name` and the line.
  static Source from(std::map<std::string, std::string> env, std::string dotenv_content = {},
                     std::string dotenv_name = ".env");

  // The value of `name` (any case), environment first, then the .env file.
  std::optional<std::string> get(std::string_view name) const;
  // Which layer `get` would answer from; nullopt when the name is not set at all.
  std::optional<Origin> origin(std::string_view name) const;

  // The .env file consulted (for start-up logs); whether it existed.
  const std::string& dotenv_path() const noexcept { return dotenv_path_; }
  bool dotenv_found() const noexcept { return dotenv_found_; }

 private:
  using Layer = std::map<std::string, std::string, std::less<>>;
  Source(Layer env, Layer dotenv, std::string dotenv_path, bool dotenv_found);

  Layer env_;     // uppercased names
  Layer dotenv_;  // uppercased names
  std::string dotenv_path_;
  bool dotenv_found_ = false;
};

}  // namespace kit::config

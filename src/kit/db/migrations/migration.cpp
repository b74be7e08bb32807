#include "kit/db/migrations/migration.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace kit::db::migrations {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw MigrationError("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::vector<Migration> load(const std::vector<SourceFile>& files, std::string_view dialect) {
  std::vector<Migration> out;
  const std::string prefix = std::string(dialect) + "/";
  for (const SourceFile& f : files) {
    if (!f.path.starts_with(prefix)) continue;
    std::string_view file = f.path.substr(prefix.size());
    // NNNN_name.sql: four or more digits, an underscore, a name, .sql
    const auto underscore = file.find('_');
    if (underscore == std::string_view::npos || underscore < 4 || !file.ends_with(".sql") ||
        underscore + 1 >= file.size() - 4) {
      throw MigrationError("migration file name must be NNNN_name.sql: " + std::string(f.path));
    }
    Migration m;
    auto [ptr, ec] = std::from_chars(file.data(), file.data() + underscore, m.version);
    if (ec != std::errc{} || ptr != file.data() + underscore || m.version <= 0) {
      throw MigrationError("migration file name must start with a version number: " +
                           std::string(f.path));
    }
    m.name = std::string(file.substr(underscore + 1, file.size() - underscore - 5));
    m.sql = std::string(f.content);
    m.checksum = sha256_hex(f.content);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw MigrationError("two migrations have version " + std::to_string(out[i].version));
    }
  }
  return out;
}

std::vector<Migration> pending(const std::vector<Migration>& available,
                               const std::vector<Applied>& applied) {
  std::map<int, const Migration*> by_version;
  for (const Migration& m : available) by_version[m.version] = &m;
  std::map<int, const Applied*> done;
  for (const Applied& a : applied) {
    auto it = by_version.find(a.version);
    if (it == by_version.end()) {
      throw MigrationError("database has migration " + std::to_string(a.version) + " (" + a.name +
                           ") which this release does not know; was it migrated by a newer one?");
    }
    if (it->second->checksum != a.checksum) {
      throw MigrationError("migration " + std::to_string(a.version) + "_" + a.name +
                           " was changed after it was applied (checksum " + a.checksum +
                           " recorded, " + it->second->checksum + " built in)");
    }
    done[a.version] = &a;
  }
  std::vector<Migration> out;
  for (const Migration& m : available) {
    if (!done.contains(m.version)) out.push_back(m);
  }
  return out;
}

}  // namespace kit::db::migrations

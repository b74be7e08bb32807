// The settings reference against the loader it documents and the docs page rendered from it
// (docs/configuration.md "Settings").
#include "service/settings_reference.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kit/config/source.hpp"
#include "service/settings.hpp"

namespace user_service {
namespace {

constexpr std::string_view kBegin = "<!-- BEGIN settings table";
constexpr std::string_view kEnd = "<!-- END settings table -->";

// The lines between the BEGIN and END markers of docs/configuration.md.
std::string committed_table() {
  std::ifstream in(std::filesystem::path(USER_SERVICE_SOURCE_DIR) / "docs" / "configuration.md");
  EXPECT_TRUE(in) << "docs/configuration.md is missing";
  std::string table, line;
  bool inside = false, ended = false;
  while (std::getline(in, line)) {
    if (line.starts_with(kBegin)) {
      inside = true;
    } else if (line == kEnd) {
      ended = inside;
      inside = false;
    } else if (inside) {
      table += line + '\n';
    }
  }
  EXPECT_TRUE(ended) << "docs/configuration.md has no BEGIN/END settings table markers";
  return table;
}

// What check-config prints in development with nothing set.
std::vector<std::pair<std::string, std::string>> development_defaults() {
  return describe(load_settings(kit::config::Source::from({}, {})));
}

TEST(SettingsReference, TheDocsTableIsTheRenderedReference) {
  EXPECT_EQ(committed_table(), settings_reference_markdown())
      << "docs/configuration.md is stale: run scripts/update-config-reference.sh and commit it";
}

TEST(SettingsReference, NamesTheLoadersSettingsInItsOrder) {
  std::vector<std::string> documented, loaded;
  for (const auto& s : settings_reference()) documented.emplace_back(s.name);
  for (const auto& [name, value] : development_defaults()) loaded.push_back(name);
  EXPECT_EQ(documented, loaded);
}

// A fixed default must appear in the row's default column as `value` (or as "empty"), so a
// changed default in the loader cannot leave the reference behind.
TEST(SettingsReference, StatesTheLoadersDevelopmentDefaults) {
  const auto defaults = development_defaults();
  const auto reference = settings_reference();
  ASSERT_EQ(defaults.size(), reference.size());
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const auto& row = reference[i];
    const auto& [name, value] = defaults[i];
    if (row.default_varies) continue;
    const std::string expected = value.empty() ? "empty" : "`" + value + "`";
    EXPECT_NE(row.default_value.find(expected), std::string_view::npos)
        << name << ": the default column '" << row.default_value << "' does not state " << expected
        << ", the loader's development default";
  }
}

TEST(SettingsReference, EveryRowIsOneTableLine) {
  for (const auto& s : settings_reference()) {
    for (const auto text : {s.name, s.type, s.default_value, s.notes}) {
      EXPECT_EQ(text.find('\n'), std::string_view::npos) << s.name;
      EXPECT_EQ(text.find(" | "), std::string_view::npos) << s.name << ": a '|' splits the cell";
    }
    EXPECT_FALSE(s.type.empty()) << s.name;
    EXPECT_FALSE(s.default_value.empty()) << s.name;
  }
}

}  // namespace
}  // namespace user_service

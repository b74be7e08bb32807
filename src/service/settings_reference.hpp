#pragma once
// The reference of every setting: its type, default and meaning, in the order check-config prints
// them. docs/configuration.md's settings table is rendered from it (`user-service
// config-reference`), and a unit test fails when the committed table differs, when a setting the
// loader reads has no row, or when a row's default is not the loader's development default.
#include <span>
#include <string>
#include <string_view>

namespace user_service {

struct SettingReference {
  std::string_view name;
  std::string_view type;           // Markdown: the accepted values
  std::string_view default_value;  // Markdown: the default, per environment where it differs
  std::string_view notes;          // Markdown
  // The development default depends on the build or the machine (the version, the core count, a
  // random secret), so it cannot be written down.
  bool default_varies = false;
};

// Every setting, in the order of describe() (settings.hpp).
std::span<const SettingReference> settings_reference();

// The Markdown table of docs/configuration.md "Settings", header included, one line per setting.
std::string settings_reference_markdown();

}  // namespace user_service

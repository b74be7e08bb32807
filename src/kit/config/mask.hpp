#pragma once
// Keeping secrets out of messages: problems, logs and `check-config` output show connection
// strings with their passwords replaced by *** and secret values only by their length.
#include <string>
#include <string_view>

namespace kit::config {

// How a setting's value may be shown in a message.
enum class Sensitivity {
  plain,            // shown as given
  secret,           // never shown: "a 5-byte value"
  credentials_url,  // shown with the URL's password masked
};

// "postgresql://u:secret@h/db" -> "postgresql://u:***@h/db", "redis://:pw@h:6379/0" ->
// "redis://:***@h:6379/0". A `password=` query parameter (libpq accepts one) is masked too.
// Strings without "scheme://" are returned unchanged; a user name alone is kept.
std::string mask_url_password(std::string_view url);

// The value as it appears inside a message, without the surrounding "(got …)":
// plain -> 'value' (control characters escaped, long values cut), secret -> a 5-byte value,
// credentials_url -> 'masked url'.
std::string render_value(std::string_view value, Sensitivity sensitivity);

}  // namespace kit::config

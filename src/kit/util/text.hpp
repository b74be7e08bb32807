#pragma once
// Text helpers every layer needs, in one place: ASCII case (HTTP tokens, setting values and
// URL schemes are ASCII-case-insensitive; user text is never case-folded here), percent-decoding,
// HTML escaping and control characters.
#include <optional>
#include <string>
#include <string_view>

namespace kit::util {

char ascii_lower(char c) noexcept;
char ascii_upper(char c) noexcept;
std::string ascii_lowercase(std::string_view s);
std::string ascii_uppercase(std::string_view s);
bool iequals_ascii(std::string_view a, std::string_view b) noexcept;

// The value of a hex digit (either case), -1 for any other character.
int hex_value(char c) noexcept;

// %XX sequences decoded (hex digits in either case); nullopt for a '%' not followed by two hex
// digits. '+' stays '+' (a form body turns it into a space before calling this).
std::optional<std::string> percent_decode(std::string_view s);

// Text safe inside an HTML element or a quoted attribute: & < > " ' as character references.
void append_html_escaped(std::string& out, std::string_view text);
std::string html_escape(std::string_view text);

// C0 controls (U+0000..U+001F), DEL, and the C1 controls U+0080..U+009F as UTF-8 (C2 80..C2 9F).
bool has_control_characters(std::string_view s) noexcept;

}  // namespace kit::util

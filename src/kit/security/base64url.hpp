#pragma once
// base64url without padding (RFC 4648 §5, as JWT uses it, RFC 7515 §2).
//
// Decoding is strict because it runs on untrusted tokens: every byte string has exactly one
// accepted encoding, so two different token strings can never carry the same bytes. Padding,
// characters outside the url-safe alphabet (including whitespace and the standard '+' and '/'),
// an impossible length (4n+1) and non-zero unused trailing bits are all rejected.
#include <optional>
#include <string>
#include <string_view>

namespace kit::security {

// Encodes arbitrary bytes (a std::string_view is used as a byte view).
std::string base64url_encode(std::string_view bytes);

// Decodes `text`; std::nullopt when it is not the canonical unpadded base64url of some bytes.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace kit::security

#pragma once
// Opaque bearer secrets (refresh tokens, single-use links): 256 random bits as base64url text,
// stored by their owner only as a SHA-256 digest, so a copy of the database holds nothing a
// client could present.
#include <optional>
#include <string>
#include <string_view>

namespace kit::security {

struct OpaqueToken {
  std::string token;  // 43 base64url characters: give to the client, never store or log
  std::string hash;   // opaque_token_hash(token): store and look up by this
};

// A new token from libsodium's CSPRNG.
OpaqueToken new_opaque_token();

// SHA-256 of the token text, as 64 lowercase hex digits. Any text (a client's guess too).
std::string opaque_token_hash(std::string_view token);

// Hides `secret` (a token of new_opaque_token()) under a key only a holder of `key_token` can
// derive: the 32 token bytes XOR SHA-256("kit.opaque-token.seal\0" || key_token), as hex. The
// stored form neither reveals the secret nor equals either token's hash. Throws
// std::invalid_argument when `secret` is not such a token.
std::string seal_with_token(std::string_view secret, std::string_view key_token);
// The secret back; nullopt when `sealed` is not 64 hex digits.
std::optional<std::string> open_with_token(std::string_view sealed, std::string_view key_token);

}  // namespace kit::security

#pragma once
// Signing-key files: PEM private keys that only the service's user may read.
//
// A key file that group or others can read is refused, not just warned about: whoever reads it
// can sign tokens every service in the fleet accepts. Kubernetes Secret volumes are symlinks
// into a data folder; the mode checked is the target's.
#include <filesystem>

#include "kit/security/signing_key.hpp"

namespace kit::security {

// Reads and parses `path`. Throws std::invalid_argument with a message that completes
// "'<path>' ..." (e.g. "is readable by group or others (mode 0644): run chmod 600") and never
// contains key material.
SigningKey read_key_file(const std::filesystem::path& path);

// Writes `key` as PKCS#8 PEM to a new file created with mode 0600. Refuses to replace an
// existing file or follow a symlink (std::system_error).
void write_key_file(const std::filesystem::path& path, const SigningKey& key);

}  // namespace kit::security

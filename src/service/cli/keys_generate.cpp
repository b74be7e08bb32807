#include <cstdio>
#include <exception>
#include <system_error>

#include "kit/security/jwt.hpp"
#include "kit/security/key_file.hpp"
#include "service/cli/commands.hpp"

namespace user_service::cli {

// Writes a new private key for JWT_ALGORITHM=EdDSA or ES256 to a new file with mode 0600 and
// prints its kid (docs/signing-keys.md). Reads no settings.
int keys_generate(const std::string& algorithm_name, const std::string& out) {
  const auto algorithm = kit::security::kJwtAlgorithmNames.parse(algorithm_name);
  const auto type = algorithm ? kit::security::key_type_for(*algorithm) : std::nullopt;
  if (!type) {
    std::fprintf(stderr, "keys generate: --alg must be EdDSA or ES256 (got '%s')\n",
                 algorithm_name.c_str());
    return kExitUsage;
  }
  try {
    const auto key = kit::security::SigningKey::generate(*type);
    kit::security::write_key_file(out, key);
    std::printf("wrote a new %s key for JWT_ALGORITHM=%s to %s (mode 0600), kid %s\n",
                std::string(kit::security::kKeyTypeNames(*type)).c_str(), algorithm_name.c_str(),
                out.c_str(), key.kid().c_str());
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "keys generate: cannot create %s: %s%s\n", out.c_str(),
                 e.code().message().c_str(),
                 e.code() == std::errc::file_exists ? " (an existing key is never replaced)" : "");
    return kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keys generate: %s\n", e.what());
    return kExitFailure;
  }
}

}  // namespace user_service::cli

#pragma once
// The `user-service` subcommands (docs/operations.md "Command line and exit codes"). Each returns
// the process exit code.
#include <string>

namespace user_service::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 78;  // EX_CONFIG

int serve();
int check_config();
int config_reference();
int migrate(bool status_only);
int healthcheck(const std::string& url);
int create_admin(const std::string& email, const std::string& name);
int keys_generate(const std::string& algorithm, const std::string& out);

}  // namespace user_service::cli

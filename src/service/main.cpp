// user-service: the command line (docs/operations.md "Command line and exit codes"). Parses
// arguments and hands over to a subcommand.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "service/cli/commands.hpp"

int main(int argc, char** argv) {
  namespace cli = user_service::cli;
  CLI::App app{"User Service: registers users, signs them in with JWT and serves profiles.",
               "user-service"};
  app.set_version_flag("--version", std::string("user-service ") + USER_SERVICE_VERSION);
  app.require_subcommand(0, 1);

  app.add_subcommand("serve", "Run the HTTP server (the default)");
  app.add_subcommand("check-config",
                     "Validate the configuration and print the effective settings, secrets masked");
  app.add_subcommand("config-reference",
                     "Print the settings reference table of docs/configuration.md (Markdown)");
  auto* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");
  bool migrate_status = false;
  migrate->add_flag("--status", migrate_status, "List applied and pending migrations instead");
  auto* health =
      app.add_subcommand("healthcheck", "GET /health/live on the local server, exit 0/1");
  std::string health_url;
  health->add_option("--url", health_url,
                     "URL to probe (default http://127.0.0.1:$PORT/health/live)");

  auto* admin = app.add_subcommand(
      "create-admin",
      "Create an admin, or promote an existing user; password from ADMIN_PASSWORD or stdin");
  std::string admin_email, admin_name;
  admin->add_option("--email", admin_email, "Email address")->required();
  admin->add_option("--name", admin_name, "Display name")->required();

  auto* keys = app.add_subcommand("keys", "Signing keys for JWT_ALGORITHM=EdDSA or ES256");
  keys->require_subcommand(1);
  auto* generate = keys->add_subcommand(
      "generate", "Write a new private key to a new file with mode 0600 and print its kid");
  std::string key_algorithm, key_out;
  generate->add_option("--alg", key_algorithm, "EdDSA (Ed25519) or ES256 (P-256)")->required();
  generate->add_option("--out", key_out, "The file to create (never replaced)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli::kExitUsage;
  }

  if (app.got_subcommand("check-config")) return cli::check_config();
  if (app.got_subcommand("config-reference")) return cli::config_reference();
  if (app.got_subcommand("migrate")) return cli::migrate(migrate_status);
  if (app.got_subcommand("healthcheck")) return cli::healthcheck(health_url);
  if (app.got_subcommand("create-admin")) return cli::create_admin(admin_email, admin_name);
  if (app.got_subcommand("keys")) return cli::keys_generate(key_algorithm, key_out);
  return cli::serve();
}

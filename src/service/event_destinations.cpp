#include "service/event_destinations.hpp"

namespace user_service {

std::string webhook_destination_name(std::string_view url) {
  const auto scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "" : url.substr(0, scheme_end);
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  const auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  const std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string name = "webhook ";
  name.append(scheme).append("://").append(authority).append(path);
  return name;
}

std::vector<std::string> event_destinations(const Settings& settings) {
  std::vector<std::string> names;
  for (const auto& url : settings.webhook_urls) names.push_back(webhook_destination_name(url));
  return names;
}

std::optional<std::string> email_destination(const Settings& settings) {
  if (settings.email_service_url.empty() && settings.smtp_url.empty()) return std::nullopt;
  return std::string(kEmailDestination);
}

}  // namespace user_service

#pragma once
// A session as the service layer sees it (docs/sessions.md): one sign-in of one client, named
// by every access token issued for it (claim `sid`), kept alive by refresh-token rotation.
#include <string>

#include "service/domain/user.hpp"

namespace user_service::domain {

struct Session {
  std::string id;  // lowercase UUID text
  std::string user_id;
  Timestamp created_at{};
  Timestamp last_used_at{};
  Timestamp expires_at{};  // the earlier of the sliding refresh expiry and the absolute one
  std::string user_agent;  // as the client sent it at sign-in, cut and made printable ASCII
  std::string client_ip;
};

// The caller of an authenticated request: the user a verified access token names and the
// session that token belongs to.
struct SessionKey {
  std::string user_id;
  std::string session_id;
};

}  // namespace user_service::domain

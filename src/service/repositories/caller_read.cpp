#include "service/repositories/user_repository.hpp"

namespace user_service::repositories {

CallerRead caller_read(std::vector<domain::User> rows, std::string_view caller_id,
                       std::optional<std::string_view> other) {
  CallerRead read;
  for (domain::User& user : rows) {
    if (user.id == caller_id) {
      if (other && *other == user.id) read.other = user;
      read.caller = std::move(user);
    } else {
      read.other = std::move(user);
    }
  }
  return read;
}

}  // namespace user_service::repositories

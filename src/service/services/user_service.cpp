#include "service/services/user_service.hpp"

#include <array>
#include <span>
#include <vector>

#include "kit/errors/app_error.hpp"
#include "kit/security/base64url.hpp"
#include "kit/util/text.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/timestamps.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::services {
namespace {

constexpr std::string_view kEmailTaken = "A user with this email already exists";

}  // namespace

std::string encode_cursor(const repositories::PageCursor& cursor) {
  std::string raw = repositories::format_timestamp(cursor.created_at);
  raw += '|';
  raw += cursor.id;
  return kit::security::base64url_encode(raw);
}

std::optional<repositories::PageCursor> decode_cursor(std::string_view text) {
  const auto raw = kit::security::base64url_decode(text);
  if (!raw) return std::nullopt;
  const std::size_t bar = raw->find('|');
  if (bar == std::string::npos) return std::nullopt;
  const auto created_at = repositories::parse_timestamp(std::string_view(*raw).substr(0, bar));
  std::string id = raw->substr(bar + 1);
  // A well-formed time can still be one no database holds (year 0000): refused here, 422.
  if (!created_at || !repositories::is_storable(*created_at) || !kit::util::is_uuid(id)) {
    return std::nullopt;
  }
  return repositories::PageCursor{*created_at, std::move(id)};
}

UserService::UserService(repositories::UserRepository& users, kit::security::PasswordHasher& hasher,
                         Events events, AccountMail mail, Clock clock)
    : users_(users),
      hasher_(hasher),
      events_(std::move(events)),
      mail_(std::move(mail)),
      clock_(std::move(clock)) {}

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

boost::asio::awaitable<domain::User> UserService::register_user(schemas::UserCreate request,
                                                                domain::Role role,
                                                                kit::async::Deadline deadline) {
  // A cheap check first so a taken email does not cost a hash; the unique index still decides
  // races (EmailTaken below).
  if (co_await users_.find_by_email(request.email, deadline))
    throw kit::errors::Conflict(std::string(kEmailTaken));
  repositories::NewUser user;
  user.password_hash = co_await hasher_.hash(std::move(request.password), deadline);
  deadline.check();  // a request answered 503 meanwhile creates no account
  user.created_at = now_of(clock_);
  user.id = kit::util::uuid_v7(std::chrono::system_clock::time_point(user.created_at));
  user.email = std::move(request.email);
  user.name = std::move(request.name);
  user.role = role;
  const domain::User registered{.id = user.id,
                                .email = schemas::normalize_email(user.email),
                                .name = user.name,
                                .password_hash = {},
                                .role = role,
                                .email_verified = false,
                                .created_at = user.created_at,
                                .updated_at = user.created_at};
  user.outbox = events_.user_registered(registered);
  // The address is proven by the link of this email (docs/account-emails.md).
  IssuedEmail verification = mail_.issue(AccountEmail::verification, registered, user.created_at);
  user.verification = std::move(verification.token);
  append(user.outbox, std::move(verification.outbox));
  std::optional<domain::User> created;
  try {
    created = co_await users_.create(user, deadline);
  } catch (const repositories::EmailTaken&) {
  }
  if (!created) throw kit::errors::Conflict(std::string(kEmailTaken));
  mail_.log(AccountEmail::verification, *created);
  co_return std::move(*created);
}

boost::asio::awaitable<UserRead> UserService::read_user(const domain::SessionKey& caller,
                                                        std::string_view requested_id,
                                                        kit::async::Deadline deadline) {
  // Ids are compared as lowercase text (both backends store them so; tokens carry them so).
  const domain::SessionKey key{kit::util::ascii_lowercase(caller.user_id), caller.session_id};
  std::string other;
  if (kit::util::is_uuid(requested_id)) other = kit::util::ascii_lowercase(requested_id);
  UserRead read;
  read.self = other == key.user_id;
  // Whether the caller is an admin is only known once it is loaded, so the other id is loaded
  // along with it in any case: one statement either way, and a refused id costs nothing more.
  const std::optional<std::string_view> wanted =
      other.empty() || read.self ? std::nullopt : std::optional<std::string_view>(other);
  repositories::CallerRead found =
      co_await users_.find_caller(key, now_of(clock_), wanted, deadline);
  read.caller = std::move(found.caller);
  read.target = std::move(found.other);
  if (!read.caller || read.caller->role != domain::Role::admin) read.target.reset();
  co_return std::move(read);
}

boost::asio::awaitable<bool> UserService::exists(std::string_view id,
                                                 kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(id)) co_return false;
  co_return (co_await users_.find_by_id(kit::util::ascii_lowercase(id), deadline)).has_value();
}

namespace {

// A new email differs from the stored one; the same email again changes nothing.
bool changes_email(const domain::User& me, const schemas::UserUpdate& change) {
  return change.email && *change.email != me.email;
}

// A new email or password: current_password must be sent and right.
bool needs_current_password(const domain::User& me, const schemas::UserUpdate& change) {
  return changes_email(me, change) || change.password;
}

}  // namespace

bool UserService::checks_password(const domain::User& me, const schemas::UserUpdate& change) {
  return needs_current_password(me, change) && change.current_password;
}

boost::asio::awaitable<domain::User> UserService::update_me(const domain::User& me,
                                                            schemas::UserUpdate change,
                                                            std::string_view current_session,
                                                            kit::async::Deadline deadline) {
  const bool new_email = changes_email(me, change);
  if (needs_current_password(me, change)) {
    if (!change.current_password) {
      throw kit::errors::ValidationError({kit::errors::Detail{
          "missing", "Required to change the email or the password", "current_password"}});
    }
    const auto check =
        co_await hasher_.verify(me.password_hash, std::move(*change.current_password), deadline);
    if (!check.ok) throw kit::errors::Forbidden("Current password is incorrect");
  }
  repositories::UserUpdate update;
  update.name = std::move(change.name);
  if (new_email) update.email = std::move(change.email);
  if (change.password) {
    update.password_hash = co_await hasher_.hash(std::move(*change.password), deadline);
    update.revoke_sessions_except = std::string(current_session);
  }
  deadline.check();  // a request answered 503 meanwhile changes nothing
  update.updated_at = now_of(clock_);
  if (update.email) {
    update.outbox = events_.user_email_changed(me.id, schemas::normalize_email(*update.email),
                                               update.updated_at);
  }
  if (update.email) {
    // The new address is unverified until the link sent to it is followed.
    domain::User to = me;
    to.email = schemas::normalize_email(*update.email);
    if (update.name) to.name = *update.name;
    IssuedEmail verification = mail_.issue(AccountEmail::verification, to, update.updated_at);
    update.verification = std::move(verification.token);
    append(update.outbox, std::move(verification.outbox));
  }
  if (update.password_hash) {
    append(update.outbox, events_.user_password_changed(me.id, update.updated_at));
  }
  std::optional<domain::User> updated;
  bool taken = false;
  try {
    updated = co_await users_.update(me.id, update, deadline);
  } catch (const repositories::EmailTaken&) {
    taken = true;
  }
  if (taken) throw kit::errors::Conflict(std::string(kEmailTaken));
  if (!updated) throw kit::errors::Unauthorized("User no longer exists", true);
  if (update.email) mail_.log(AccountEmail::verification, *updated);
  co_return std::move(*updated);
}

boost::asio::awaitable<void> UserService::delete_me(const domain::User& me,
                                                    kit::async::Deadline deadline) {
  deadline.check();  // a request answered 503 deletes nothing
  co_await users_.remove(me.id, deadline, events_.user_deleted(me.id, now_of(clock_)));
}

boost::asio::awaitable<schemas::UserListResponse> UserService::list(
    const schemas::ListUsersQuery& query, kit::async::Deadline deadline) {
  std::optional<repositories::PageCursor> after;
  if (query.cursor) {
    after = decode_cursor(*query.cursor);
    if (!after) {
      throw kit::errors::ValidationError(
          {kit::errors::Detail{"invalid_value", "Invalid pagination cursor", "cursor"}});
    }
  }
  const repositories::Page page = co_await users_.list(query.limit, std::move(after), deadline);
  schemas::UserListResponse out;
  out.items.reserve(page.items.size());
  for (const auto& user : page.items) out.items.push_back(schemas::UserResponse::from(user));
  if (page.next) out.next_cursor = encode_cursor(*page.next);
  co_return out;
}

boost::asio::awaitable<AdminResult> UserService::create_or_promote_admin(
    schemas::UserCreate request) {
  std::optional<domain::User> existing = co_await users_.find_by_email(request.email);
  if (!existing) {
    const std::string email = request.email;
    std::optional<domain::User> created;
    try {
      created = co_await register_user(std::move(request), domain::Role::admin);
    } catch (const kit::errors::Conflict&) {
      // Registered by someone else meanwhile: promote that user below.
    }
    if (created) co_return AdminResult{std::move(*created), true};
    existing = co_await users_.find_by_email(email);
    if (!existing) throw kit::errors::Conflict("The user changed concurrently; try again");
  }
  repositories::UserUpdate update;
  update.role = domain::Role::admin;
  update.updated_at = now_of(clock_);
  std::optional<domain::User> promoted = co_await users_.update(existing->id, update);
  if (!promoted) throw kit::errors::Conflict("The user changed concurrently; try again");
  co_return AdminResult{std::move(*promoted), false};
}
#pragma GCC diagnostic pop

}  // namespace user_service::services

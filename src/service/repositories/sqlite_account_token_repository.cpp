#include "service/repositories/sqlite_account_token_repository.hpp"

#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/sqlite_outbox_store.hpp"
#include "service/repositories/timestamps.hpp"
#include "service/repositories/user_rows.hpp"

namespace user_service::repositories {
namespace {

using kit::db::sqlite::Row;
using kit::db::sqlite::Rows;
using kit::db::sqlite::Value;

constexpr const char* kIssue =
    "INSERT INTO account_tokens (token_hash, purpose, user_id, email, created_at, expires_at) "
    "SELECT ?1, ?2, id, email, ?5, ?6 FROM users WHERE id = ?3 AND email = ?4";
constexpr const char* kFindUsable =
    "SELECT t.user_id, t.email, u.email, u.email_verified FROM account_tokens t "
    "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1 AND t.purpose = ?2 "
    "AND t.used_at IS NULL AND t.expires_at > ?3";
// Spending a token: one row changes only while it is unspent and unexpired (and was sent to
// the address ?5, when given).
constexpr const char* kSpend =
    "UPDATE account_tokens SET used_at = ?2 WHERE token_hash = ?1 AND purpose = ?3 "
    "AND user_id = ?4 AND used_at IS NULL AND expires_at > ?2 AND (?5 IS NULL OR email = ?5) "
    "RETURNING email";
constexpr const char* kUserWithEmail = "SELECT 1 FROM users WHERE id = ?1 AND email = ?2";
constexpr const char* kVerify =
    "UPDATE users SET email_verified = 1, updated_at = ?2 WHERE id = ?1 AND email = ?3 "
    "AND email_verified = 0";
constexpr const char* kSelectUser = "SELECT " USER_COLUMNS " FROM users WHERE id = ?1";
constexpr const char* kSpendOtherResets =
    "UPDATE account_tokens SET used_at = ?2 WHERE user_id = ?1 AND purpose = 'reset_password' "
    "AND used_at IS NULL";
constexpr const char* kSetPassword =
    "UPDATE users SET password_hash = ?2, updated_at = ?3, "
    "email_verified = CASE WHEN email = ?4 THEN 1 ELSE email_verified END WHERE id = ?1 "
    "RETURNING " USER_COLUMNS;
constexpr const char* kRevokeAll =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = 'password_reset' "
    "WHERE user_id = ?1 AND revoked_at IS NULL RETURNING id";
constexpr const char* kPurge =
    "DELETE FROM account_tokens WHERE token_hash IN (SELECT token_hash FROM account_tokens "
    "WHERE expires_at < ?1 LIMIT ?2)";

}  // namespace

boost::asio::awaitable<bool> SqliteAccountTokenRepository::issue(
    const NewAccountToken& token, std::vector<kit::outbox::Message> outbox,
    kit::async::Deadline deadline) {
  deadline.check();
  auto body = [&token, &outbox](kit::db::sqlite::Connection& c) {
    const Value params[] = {
        token.hash,  std::string(to_string(token.purpose)), token.user_id,
        token.email, format_timestamp(token.created_at),    format_timestamp(token.expires_at)};
    if (c.execute(kIssue, params) == 0) return false;
    write_outbox(c, outbox, token.created_at);
    return true;
  };
  co_return co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<std::optional<UsableToken>> SqliteAccountTokenRepository::find_usable(
    std::string_view token_hash, TokenPurpose purpose, domain::Timestamp now,
    kit::async::Deadline deadline) {
  std::vector<Value> params{std::string(token_hash), std::string(to_string(purpose)),
                            format_timestamp(now)};
  const Rows rows = co_await db_.query(kFindUsable, std::move(params), deadline);
  if (rows.empty()) co_return std::nullopt;
  co_return UsableToken{.user_id = rows[0].text(0),
                        .email = rows[0].text(1),
                        .user_email = rows[0].text(2),
                        .user_email_verified = rows[0].int64(3) != 0};
}

boost::asio::awaitable<std::optional<domain::User>> SqliteAccountTokenRepository::verify_email(
    const EmailVerification& verification, kit::async::Deadline deadline) {
  deadline.check();
  auto body = [&verification](kit::db::sqlite::Connection& c) -> std::optional<domain::User> {
    const std::string at = format_timestamp(verification.at);
    const Value owner[] = {verification.user_id, verification.email};
    if (c.query(kUserWithEmail, owner).empty()) return std::nullopt;
    const Value spend[] = {verification.token_hash, at, std::string("verify_email"),
                           verification.user_id, verification.email};
    if (c.query(kSpend, spend).empty()) return std::nullopt;
    const Value verify[] = {verification.user_id, at, verification.email};
    if (c.execute(kVerify, verify) > 0) write_outbox(c, verification.outbox, verification.at);
    const Value id[] = {verification.user_id};
    const Rows user = c.query(kSelectUser, id);
    if (user.empty()) return std::nullopt;
    return sqlite_user_row(user[0]);
  };
  co_return co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<std::optional<domain::User>> SqliteAccountTokenRepository::reset_password(
    const PasswordReset& reset, kit::async::Deadline deadline) {
  deadline.check();
  auto body = [this, &reset](kit::db::sqlite::Connection& c) -> std::optional<domain::User> {
    const std::string at = format_timestamp(reset.at);
    const Value spend[] = {reset.token_hash, at, std::string("reset_password"), reset.user_id,
                           nullptr};
    const Rows spent = c.query(kSpend, spend);
    if (spent.empty()) return std::nullopt;
    const Value others[] = {reset.user_id, at};
    c.execute(kSpendOtherResets, others);
    const Value set[] = {reset.user_id, reset.password_hash, at, spent[0].text(0)};
    const Rows user = c.query(kSetPassword, set);
    if (user.empty()) return std::nullopt;
    write_outbox(c, reset.outbox, reset.at);
    const Value revoke[] = {reset.user_id, at};
    for (const Row& session : c.query(kRevokeAll, revoke)) {
      write_outbox(c,
                   session_revoked(destinations_, session.text(0), reset.user_id, "password_reset",
                                   reset.at),
                   reset.at);
    }
    return sqlite_user_row(user[0]);
  };
  co_return co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<std::int64_t> SqliteAccountTokenRepository::purge(domain::Timestamp before,
                                                                         std::size_t limit) {
  std::vector<Value> params{format_timestamp(before), static_cast<std::int64_t>(limit)};
  co_return co_await db_.execute(kPurge, std::move(params));
}

}  // namespace user_service::repositories

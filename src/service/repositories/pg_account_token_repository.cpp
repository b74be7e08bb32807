#include "service/repositories/pg_account_token_repository.hpp"

#include "kit/db/errors.hpp"
#include "kit/db/pg/timestamp.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/timestamps.hpp"
#include "service/repositories/user_rows.hpp"

namespace user_service::repositories {
namespace {

using boost::asio::awaitable;
using kit::db::pg::Params;
using kit::db::pg::Result;
using kit::db::pg::Retry;
using kit::db::pg::Statement;

// The token only while its user still has the address it is sent to; its email with it.
const Statement kIssue{
    "account_tokens_issue",
    "WITH t AS (INSERT INTO account_tokens (token_hash, purpose, user_id, email, created_at, "
    "expires_at) SELECT $1, $2, id, email, $5::timestamptz, $6::timestamptz FROM users "
    "WHERE id = $3 AND email = $4 RETURNING user_id), " PG_WRITE_OUTBOX(
        "$7", "$5::timestamptz", "t") " SELECT count(*) FROM t"};

const Statement kFindUsable{
    "account_tokens_find_usable",
    "SELECT t.user_id, t.email, u.email, u.email_verified FROM account_tokens t "
    "JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.purpose = $2 "
    "AND t.used_at IS NULL AND t.expires_at > $3::timestamptz",
    true};

// Spends the token while its address is still the user's; `v` is the user only when this
// statement verified it (the WHERE is checked again on the locked row, so of two tokens
// spent at once only one announces it). The answer is read from the statement's snapshot, so
// it shows the change explicitly.
const Statement kVerify{
    "account_tokens_verify_email",
    "WITH t AS (UPDATE account_tokens SET used_at = $2::timestamptz WHERE token_hash = $1 "
    "AND purpose = 'verify_email' AND used_at IS NULL AND expires_at > $2::timestamptz "
    "AND user_id = $3 AND email = $4 AND EXISTS (SELECT 1 FROM users WHERE id = $3 AND email = "
    "$4) RETURNING user_id), "
    "v AS (UPDATE users SET email_verified = true, updated_at = $2::timestamptz WHERE id = $3 "
    "AND email = $4 AND NOT email_verified AND EXISTS (SELECT 1 FROM t) RETURNING id), " PG_WRITE_OUTBOX(
        "$5", "$2::timestamptz",
        "v") " SELECT id, email, name, password_hash, role, created_at, CASE WHEN EXISTS (SELECT "
             "1 FROM v) THEN $2::timestamptz ELSE updated_at END, true FROM users WHERE id = $3 "
             "AND EXISTS (SELECT 1 FROM t)"};

// Spends the user's unspent reset tokens, this one among them, in ONE update (so concurrent
// resets lock them in one order and cannot deadlock), then sets the password (verifying the
// address the token was sent to when it is still the user's), and revokes every session, each
// with its session.revoked event. A reset that lost the race finds this token spent on its
// recheck and changes nothing else.
const Statement kReset{
    "account_tokens_reset_password",
    "WITH t AS (UPDATE account_tokens SET used_at = $2::timestamptz WHERE user_id = $3 "
    "AND purpose = 'reset_password' AND used_at IS NULL AND EXISTS (SELECT 1 FROM "
    "account_tokens p WHERE p.token_hash = $1 AND p.user_id = $3 AND p.purpose = "
    "'reset_password' AND p.used_at IS NULL AND p.expires_at > $2::timestamptz) "
    "RETURNING token_hash, email), "
    "k AS (SELECT email AS token_email FROM t WHERE token_hash = $1), "
    "u AS (UPDATE users SET password_hash = $4, updated_at = $2::timestamptz, "
    "email_verified = email_verified OR email = k.token_email FROM k WHERE id = $3 "
    "RETURNING " USER_COLUMNS
    "), "
    "r AS (UPDATE sessions SET revoked_at = $2::timestamptz, revoke_reason = 'password_reset' "
    "WHERE user_id = $3 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM u) "
    "RETURNING id, user_id), " PG_WRITE_OUTBOX(
        "$5", "$2::timestamptz",
        "u") ", " PG_WRITE_SESSION_REVOKED("r", "$2::timestamptz", "$6", "'password_reset'",
                                           "$7") " SELECT " USER_COLUMNS " FROM u"};

// Bounded, and SKIP LOCKED so that replicas purging at once do not wait on each other.
const Statement kPurge{
    "account_tokens_purge",
    "DELETE FROM account_tokens WHERE token_hash IN (SELECT token_hash FROM account_tokens "
    "WHERE expires_at < $1::timestamptz LIMIT $2 FOR UPDATE SKIP LOCKED)"};

std::optional<domain::User> first_user(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return pg_user_row(r, 0);
}

}  // namespace

// Idempotent: a replay of a committed insert fails on the token's primary key; the caller's
// token is random, so such a failure can only be our own earlier attempt.
awaitable<bool> PgAccountTokenRepository::issue(const NewAccountToken& token,
                                                std::vector<kit::outbox::Message> outbox,
                                                kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(token.user_id)) co_return false;
  Params params{token.hash,
                std::string(to_string(token.purpose)),
                token.user_id,
                token.email,
                kit::db::pg::format_timestamp(token.created_at),
                kit::db::pg::format_timestamp(token.expires_at),
                pg_outbox_rows(outbox)};
  bool replayed = false;
  try {
    Result r = co_await pool_.query(kIssue, std::move(params), Retry::safe, deadline);
    co_return r.rows() > 0 && r.get(0, 0).value_or("0") != "0";
  } catch (const kit::db::UniqueViolation&) {
    replayed = true;
  }
  co_return replayed;
}

awaitable<std::optional<UsableToken>> PgAccountTokenRepository::find_usable(
    std::string_view token_hash, TokenPurpose purpose, domain::Timestamp now,
    kit::async::Deadline deadline) {
  Params params{std::string(token_hash), std::string(to_string(purpose)),
                kit::db::pg::format_timestamp(now)};
  Result r = co_await pool_.query(kFindUsable, std::move(params), Retry::safe, deadline);
  if (r.rows() == 0) co_return std::nullopt;
  co_return UsableToken{.user_id = std::string(r.get(0, 0).value_or("")),
                        .email = std::string(r.get(0, 1).value_or("")),
                        .user_email = std::string(r.get(0, 2).value_or("")),
                        .user_email_verified = r.get(0, 3).value_or("f") == "t"};
}

// Not retried: a replay after a lost answer would find the token spent and report nothing
// done although the change was committed.
awaitable<std::optional<domain::User>> PgAccountTokenRepository::verify_email(
    const EmailVerification& verification, kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(verification.user_id)) co_return std::nullopt;
  Params params{verification.token_hash, kit::db::pg::format_timestamp(verification.at),
                verification.user_id, verification.email, pg_outbox_rows(verification.outbox)};
  Result r = co_await pool_.query(kVerify, std::move(params), Retry::never, deadline);
  co_return first_user(r);
}

awaitable<std::optional<domain::User>> PgAccountTokenRepository::reset_password(
    const PasswordReset& reset, kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(reset.user_id)) co_return std::nullopt;
  Params params{reset.token_hash,
                kit::db::pg::format_timestamp(reset.at),
                reset.user_id,
                reset.password_hash,
                pg_outbox_rows(reset.outbox),
                format_timestamp(reset.at),
                destinations_};
  Result r = co_await pool_.query(kReset, std::move(params), Retry::never, deadline);
  co_return first_user(r);
}

awaitable<std::int64_t> PgAccountTokenRepository::purge(domain::Timestamp before,
                                                        std::size_t limit) {
  Params params{kit::db::pg::format_timestamp(before), std::to_string(limit)};
  Result r = co_await pool_.query(kPurge, std::move(params), Retry::safe);
  co_return r.affected_rows();
}

}  // namespace user_service::repositories

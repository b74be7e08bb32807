#include "kit/ratelimit/redis_limiter.hpp"

#include "kit/errors/app_error.hpp"
#include "kit/log/log.hpp"

namespace kit::ratelimit {

namespace {

// KEYS[1] the bucket; ARGV[1] limit, ARGV[2] window in microseconds.
// Returns {allowed, remaining, reset_us, retry_us} — the Lua twin of gcra() in limiter.cpp,
// integer microseconds throughout (Lua numbers are doubles: exact below 2^53 µs, 285 years).
constexpr const char* kGcraLua = R"lua(
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = math.max(math.floor(window / limit), 1)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, 0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX',
           math.floor((new_tat - now) / 1000) + 1)
return {1, math.floor((window - (new_tat - now)) / interval), new_tat - now, 0}
)lua";

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const redis::Script& RedisLimiter::script() {
  static const redis::Script s{kGcraLua};
  return s;
}

RedisLimiter::RedisLimiter(std::shared_ptr<redis::Client> client, RedisLimiterOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

boost::asio::awaitable<Decision> RedisLimiter::hit(std::string key, const Policy& policy) {
  std::vector<std::string> keys;
  keys.push_back(options_.key_prefix + policy.name + ":" + bounded_key(key));
  std::vector<std::string> args;
  args.push_back(std::to_string(std::max<std::uint32_t>(policy.limit, 1)));
  args.push_back(
      std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(policy.window).count()));
  std::string error;
  try {
    const redis::Reply reply = co_await client_->eval(script(), std::move(keys), std::move(args));
    if (reply.type == redis::Reply::Type::array && reply.elements.size() == 4) {
      const auto& e = reply.elements;
      co_return make_decision(e[0].integer == 1, policy.limit, e[1].integer, e[2].integer,
                              e[3].integer);
    }
    error = "unexpected script reply";
  } catch (const redis::UnavailableError& e) {
    error = e.what();
  } catch (const redis::ReplyError& e) {
    error = std::string("script error: ") + std::string(e.what()).substr(0, 200);
  }
  co_return on_failure(policy, error);
}

Decision RedisLimiter::on_failure(const Policy& policy, std::string_view error) {
  failures_total_.fetch_add(1, std::memory_order_relaxed);
  const auto now = now_us();
  auto last = last_warning_us_.load(std::memory_order_relaxed);
  const auto interval =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.warn_interval).count();
  if ((last == 0 || now - last >= interval) &&
      last_warning_us_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    kit::log::warning("ratelimit", "rate_limit_backend_unavailable",
                      {{"error", error},
                       {"fail_open", options_.fail_open},
                       {"policy", policy.name},
                       {"suppressed", suppressed_.exchange(0, std::memory_order_relaxed)}});
  } else {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!options_.fail_open) {
    throw kit::errors::ServiceUnavailable("Rate limiting is temporarily unavailable");
  }
  fail_open_total_.fetch_add(1, std::memory_order_relaxed);
  // Allowed, with the full budget announced: nothing is known about the real one.
  return make_decision(true, policy.limit, policy.limit, 0, 0);
}

}  // namespace kit::ratelimit

#include "kit/ratelimit/redis_limiter.hpp"

#include <algorithm>
#include <functional>

#include "kit/errors/app_error.hpp"
#include "kit/log/log.hpp"

namespace kit::ratelimit {

namespace {

// KEYS[1] the bucket; ARGV[1] limit, ARGV[2] window in microseconds, ARGV[3] cells wanted (>= 1),
// ARGV[4] cells handed back (the unused rest of an ended lease, >= 0).
// Returns {granted, remaining, reset_us, retry_us}; granted 0 = denied. With one cell wanted and
// none handed back this is the Lua twin of gcra() in limiter.cpp; integer microseconds
// throughout (Lua numbers are doubles: exact below 2^53 us, 285 years).
constexpr const char* kGcraLua = R"lua(
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local refund = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = math.max(math.floor(window / limit), 1)
local tat = (tonumber(redis.call('GET', KEYS[1])) or now) - refund * interval
if tat < now then tat = now end
local granted = math.min(want, math.floor((now + window - tat) / interval))
if granted < 1 then
  if refund > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX',
               math.floor((tat - now) / 1000) + 1)
  end
  return {0, 0, 0, tat + interval - window - now}
end
local new_tat = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX',
           math.floor((new_tat - now) / 1000) + 1)
return {granted, math.floor((window - (new_tat - now)) / interval), new_tat - now, 0}
)lua";

constexpr std::size_t kShards = 16;

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
    : client_(std::move(client)), options_(std::move(options)) {
  shards_.reserve(kShards);
  for (std::size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

std::uint32_t RedisLimiter::lease_limit(const Policy& policy) const noexcept {
  if (options_.lease_divisor == 0) return 1;
  return std::clamp<std::uint32_t>(policy.limit / options_.lease_divisor, 1,
                                   std::max<std::uint32_t>(options_.max_lease, 1));
}

// The cells a lease still holds count as remaining, and the key's TAT without them is the reset.
Decision RedisLimiter::allowed_from(const Lease& lease, const Policy& policy, std::int64_t now) {
  const std::int64_t reset = lease.tat_us - lease.tokens * interval_us(policy) - now;
  return make_decision(true, policy.limit, lease.remaining + lease.tokens, reset, 0);
}

std::int64_t RedisLimiter::lease_ttl_us() const noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(options_.lease_ttl).count();
}

RedisLimiter::Shard& RedisLimiter::shard_for(const std::string& full_key) {
  return *shards_[std::hash<std::string>{}(full_key) % shards_.size()];
}

bool RedisLimiter::take_local(Shard& shard, const std::string& full_key, const Policy& policy,
                              std::int64_t now, std::uint32_t max_lease, Decision& out,
                              Reservation& reservation) {
  std::lock_guard lock(shard.mu);
  const auto it = shard.leases.find(full_key);
  if (it == shard.leases.end()) return false;  // a new key: one cell, nothing to hand back
  Lease& lease = it->second;
  if (now < lease.denied_until_us) {
    out = make_decision(false, policy.limit, 0, 0, lease.denied_until_us - now);
    return true;
  }
  if (lease.tokens > 0 && now < lease.ends_us) {
    --lease.tokens;
    out = allowed_from(lease, policy, now);
    return true;
  }
  if (lease.tokens > 0) {
    // Ended with cells left: hand them back, and ask for fewer next time.
    reservation.refund = lease.tokens;
    reservation.want = std::max<std::uint32_t>(lease.size / 2, 1);
    lease.tokens = 0;
  } else if (now - lease.ends_us > 4 * lease_ttl_us()) {
    reservation.want = 1;  // used up long ago: the client's pace is unknown again
  } else {
    reservation.want = std::min(max_lease, lease.size * 2);  // used up in time: ask for more
  }
  return false;
}

Decision RedisLimiter::store(Shard& shard, const std::string& full_key, const Policy& policy,
                             std::int64_t now, std::uint32_t want, std::int64_t granted,
                             std::int64_t remaining, std::int64_t reset_us, std::int64_t retry_us) {
  std::lock_guard lock(shard.mu);
  auto it = shard.leases.find(full_key);
  if (it == shard.leases.end()) {
    const std::size_t per_shard = std::max<std::size_t>(options_.max_leases / shards_.size(), 1);
    if (shard.leases.size() >= per_shard) {
      std::erase_if(shard.leases, [now](const auto& entry) {
        return entry.second.ends_us <= now && entry.second.denied_until_us <= now;
      });
    }
    if (shard.leases.size() >= per_shard) {
      // Full of live leases: this key goes without one (a cell beyond this request's is lost).
      return make_decision(granted >= 1, policy.limit, remaining, reset_us, retry_us);
    }
    it = shard.leases.emplace(full_key, Lease{}).first;
  }
  Lease& lease = it->second;
  lease.size = want;
  const bool held = lease.tokens > 0 && now < lease.ends_us;  // a concurrent reservation's
  if (granted < 1) {
    if (!held) lease.denied_until_us = now + retry_us;
    return make_decision(false, policy.limit, 0, 0, retry_us);
  }
  lease.denied_until_us = 0;
  lease.tokens = (held ? lease.tokens : 0) + static_cast<std::uint32_t>(granted - 1);
  lease.remaining = remaining;
  lease.tat_us = now + reset_us;
  lease.ends_us = now + lease_ttl_us();
  return allowed_from(lease, policy, now);
}

boost::asio::awaitable<Decision> RedisLimiter::hit(std::string key, const Policy& policy,
                                                   const kit::trace::Parent* parent) {
  std::string full_key = options_.key_prefix + policy.name + ":" + bounded_key(key);
  const std::uint32_t max_lease = lease_limit(policy);
  Shard* shard = nullptr;
  Reservation reservation;
  if (max_lease > 1) {
    shard = &shard_for(full_key);
    Decision local;
    if (take_local(*shard, full_key, policy, now_us(), max_lease, local, reservation)) {
      co_return local;
    }
  }
  std::vector<std::string> keys;
  keys.push_back(full_key);
  std::vector<std::string> args;
  args.push_back(std::to_string(std::max<std::uint32_t>(policy.limit, 1)));
  args.push_back(std::to_string(window_us(policy)));
  args.push_back(std::to_string(reservation.want));
  args.push_back(std::to_string(reservation.refund));
  std::string error;
  try {
    script_calls_.fetch_add(1, std::memory_order_relaxed);
    const redis::Reply reply =
        co_await client_->eval(script(), std::move(keys), std::move(args), parent);
    if (reply.type == redis::Reply::Type::array && reply.elements.size() == 4) {
      const auto& e = reply.elements;
      if (shard != nullptr) {
        co_return store(*shard, full_key, policy, now_us(), reservation.want, e[0].integer,
                        e[1].integer, e[2].integer, e[3].integer);
      }
      co_return make_decision(e[0].integer >= 1, policy.limit, e[1].integer, e[2].integer,
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

-- Shared by every scenario (loaded with dofile from the scenario's folder).
--
-- done() prints one line `BENCH_JSON {...}` with the request count, the duration, wrk's latency
-- distribution (microseconds) and the errors, for bench/lib/runner.py to collect.
--
-- Errors: socket errors (connect, read, write, timeout) always count. Scenarios whose intended
-- answer is 2xx rely on wrk's own status counter (every status > 399). Scenarios that call
-- expect(code) count every answer other than `code` themselves (get_missing expects 404, so wrk's
-- status counter is not an error count there); this costs wrk a Lua call per response, so only
-- those scenarios pay it.
local common = {}

local threads = {}
local expected = nil

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Reads the lines of a data file the runner wrote (tokens, user ids, emails).
function common.lines(path)
  local out = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if line ~= "" then table.insert(out, line) end
  end
  f:close()
  assert(#out > 0, "no data in " .. path)
  return out
end

-- A random RFC 4122 version 4 UUID (for ids that exist nowhere).
function common.uuid4()
  local hex = "0123456789abcdef"
  local t = {}
  for i = 1, 36 do
    if i == 9 or i == 14 or i == 19 or i == 24 then
      t[i] = "-"
    elseif i == 15 then
      t[i] = "4"
    elseif i == 20 then
      local v = math.random(8, 11)
      t[i] = hex:sub(v + 1, v + 1)
    else
      local v = math.random(0, 15)
      t[i] = hex:sub(v + 1, v + 1)
    end
  end
  return table.concat(t)
end

-- Counts every response whose status is not `code` (in each thread's own environment).
function common.expect(code)
  expected = code
  unexpected = 0
  response = function(status, headers, body)
    if status ~= code then unexpected = unexpected + 1 end
  end
end

-- Round-robin over pre-built requests: building them once keeps wrk's own cost per request low.
function common.cycle(requests)
  local i = 0
  local n = #requests
  return function()
    i = i % n + 1
    return requests[i]
  end
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- The pre-built requests of the database-bound scenarios, from the runner's data folder `dir`.
-- GET /api/v1/users/me with each seeded user's token (tokens.txt).
function common.me_requests(dir)
  local built = {}
  for _, token in ipairs(common.lines(dir .. "/tokens.txt")) do
    table.insert(built, wrk.format("GET", "/api/v1/users/me", {["Authorization"] = "Bearer " .. token}))
  end
  return built
end

-- GET /api/v1/users/{id} by a user for itself: line i of tokens.txt is the token of the user on
-- line i of user_ids.txt (the runner writes them so). The first `n` users.
function common.own_requests(dir, n)
  local ids = common.lines(dir .. "/user_ids.txt")
  local tokens = common.lines(dir .. "/tokens.txt")
  local built = {}
  for i = 1, math.min(n, #tokens) do
    table.insert(built, wrk.format("GET", "/api/v1/users/" .. ids[i],
                                   {["Authorization"] = "Bearer " .. tokens[i]}))
  end
  return built
end

-- GET /api/v1/users/{id} for `count` random ids that exist nowhere, each with the token of one
-- of the first `n` users (valid credentials: the answer is the 404, never a 401).
function common.missing_requests(dir, n, count)
  local tokens = common.lines(dir .. "/tokens.txt")
  local built = {}
  for i = 1, count do
    local token = tokens[(i - 1) % math.min(n, #tokens) + 1]
    table.insert(built, wrk.format("GET", "/api/v1/users/" .. common.uuid4(),
                                   {["Authorization"] = "Bearer " .. token}))
  end
  return built
end

-- GET /api/v1/users/{id} as the admin (admin_token.txt) for each id in `ids`.
function common.get_user_requests(dir, ids)
  local auth = {["Authorization"] = "Bearer " .. common.lines(dir .. "/admin_token.txt")[1]}
  local built = {}
  for _, id in ipairs(ids) do
    table.insert(built, wrk.format("GET", "/api/v1/users/" .. id, auth))
  end
  return built
end

-- POST /api/v1/auth/token, form-encoded, for each seeded email (emails.txt, password.txt).
function common.login_requests(dir)
  local password = urlencode(common.lines(dir .. "/password.txt")[1])
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  local built = {}
  for _, email in ipairs(common.lines(dir .. "/emails.txt")) do
    local body = "grant_type=password&username=" .. urlencode(email) .. "&password=" .. password
    table.insert(built, wrk.format("POST", "/api/v1/auth/token", headers, body))
  end
  return built
end

function done(summary, latency, requests)
  local e = summary.errors
  local status_errors = e.status
  if expected ~= nil then
    status_errors = 0
    for _, t in ipairs(threads) do
      status_errors = status_errors + (t:get("unexpected") or 0)
    end
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},' ..
    '"expected_status":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, status_errors,
    expected and tostring(expected) or '"2xx/3xx"'))
end

return common

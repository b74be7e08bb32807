-- POST /api/v1/users/ with a new email on every request (argon2id hash + one insert); 201 is the
-- intended answer. Argument: the data folder (unused). Each wrk run (warm-up, measurement) and
-- thread draws its own random tag, so emails never repeat against the same database.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
common.expect(201)
local tag, n = "", 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  local f = assert(io.open("/proc/sys/kernel/random/uuid", "r"))
  tag = f:read("*l")
  f:close()
end

function request()
  n = n + 1
  local body = string.format(
    '{"email":"reg-%s-%d@bench.example.com","name":"Bench %d","password":"bench-register-pw"}',
    tag, n, n)
  return wrk.format("POST", "/api/v1/users/", headers, body)
end

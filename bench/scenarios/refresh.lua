-- POST /api/v1/auth/token with grant_type=refresh_token: each request spends one refresh token
-- of refresh_tokens.txt (seeded by bench/refresh.sh), so every answer is a rotation (200). A
-- token sent twice would be theft (400): the file holds more tokens than a run sends.
-- Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local tokens
local i = 0

function init(args)
  tokens = common.lines(args[1] .. "/refresh_tokens.txt")
end

function request()
  i = i + 1
  assert(i <= #tokens, "out of refresh tokens: seed more")
  return wrk.format("POST", "/api/v1/auth/token",
                    {["Content-Type"] = "application/x-www-form-urlencoded"},
                    "grant_type=refresh_token&refresh_token=" .. tokens[i])
end

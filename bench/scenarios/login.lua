-- POST /api/v1/auth/token (OAuth2 password grant, form-encoded) over the seeded users: one
-- argon2id verification at the configured cost per request; 200 is the intended answer.
-- Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local next_request
common.expect(200)

function init(args)
  next_request = common.cycle(common.login_requests(args[1]))
end

function request()
  return next_request()
end

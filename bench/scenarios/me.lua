-- GET /api/v1/users/me with the tokens of seeded users: JWT verification + one primary-key read.
-- Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local next_request

function init(args)
  next_request = common.cycle(common.me_requests(args[1]))
end

function request()
  return next_request()
end

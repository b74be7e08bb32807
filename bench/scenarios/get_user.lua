-- GET /api/v1/users/{id} by a user reading itself, across 50 seeded users (each with its own
-- bearer token): JWT verification, then one primary-key read. Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local next_request

function init(args)
  next_request = common.cycle(common.own_requests(args[1], 50))
end

function request()
  return next_request()
end

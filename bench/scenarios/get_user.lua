-- GET /api/v1/users/{id} as an admin, over the seeded users' ids: JWT verification, the admin's
-- row, then the target row. Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local next_request

function init(args)
  local ids = common.lines(args[1] .. "/user_ids.txt")
  next_request = common.cycle(common.get_user_requests(args[1], ids))
end

function request()
  return next_request()
end

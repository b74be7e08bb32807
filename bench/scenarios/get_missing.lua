-- GET /api/v1/users/{id} as an admin for well-formed ids that exist nowhere: 404 is the intended
-- answer, anything else is an error. Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local next_request
common.expect(404)

function init(args)
  math.randomseed(os.time() + (thread_index or 0))
  local ids = {}
  for i = 1, 1000 do ids[i] = common.uuid4() end
  next_request = common.cycle(common.get_user_requests(args[1], ids))
end

function request()
  return next_request()
end

-- GET /api/v1/users/{id} for well-formed ids that exist nowhere, each with the valid bearer token
-- of one of 50 seeded users: JWT verification, one statement for the caller and the id, then
-- the 404. 404 is the intended answer, anything else is an error. Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local next_request
common.expect(404)

function init(args)
  math.randomseed(os.time() + (thread_index or 0))
  next_request = common.cycle(common.missing_requests(args[1], 50, 1000))
end

function request()
  return next_request()
end

-- GET /api/v1/users?limit=50 as the admin: one page of the keyset-paginated list. Arguments: the
-- data folder, then optionally a file holding the cursor of the page to read (page 10,000 in the
-- `scale` phase; without it, page 1).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local req

function init(args)
  local path = "/api/v1/users?limit=50"
  if args[2] then path = path .. "&cursor=" .. common.lines(args[2])[1] end
  local token = common.lines(args[1] .. "/admin_token.txt")[1]
  req = wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end

function request()
  return req
end

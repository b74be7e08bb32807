-- The production mix: 80% GET /users/me, 15% GET /users/{id} as an admin, 5% logins. Every
-- intended answer is 200, so wrk's status counter (> 399) is the error count.
-- Argument: the data folder.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local me, get_user, login

function init(args)
  math.randomseed(os.time() + (thread_index or 0))
  local dir = args[1]
  me = common.cycle(common.me_requests(dir))
  get_user = common.cycle(common.get_user_requests(dir, common.lines(dir .. "/user_ids.txt")))
  login = common.cycle(common.login_requests(dir))
end

function request()
  local r = math.random(100)
  if r <= 80 then return me() end
  if r <= 95 then return get_user() end
  return login()
end

-- GET /health/live: the HTTP stack alone (the nginx `return 200` reference runs this script too).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")
wrk.method = "GET"
wrk.path = "/health/live"

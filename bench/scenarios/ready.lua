-- GET /health/ready: runs the readiness checks (a database ping; Redis when configured).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")
wrk.method = "GET"
wrk.path = "/health/ready"

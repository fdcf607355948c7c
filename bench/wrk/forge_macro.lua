-- Forge Custom UI invokeRemote calls: POST with a Forge Invocation Token per request, taken in turn
-- from a file of pre-minted tokens (one token: cached views of one title; many: one title each).
-- Script args: token file, path.
local tokens, path = {}, "/"
local sent = 0
local body = '{"call":{"functionKey":"title-status","payload":{}},"context":{}}'

function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  path = args[2]
end

function request()
  local token = tokens[(sent % #tokens) + 1]
  sent = sent + 1
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["x-forge-oauth-system"] = "bench-system-token",
    ["x-forge-oauth-user"] = "bench-user-token",
  }, body)
end

dofile("bench/wrk/percentiles.lua")  -- run from the repository root (run_wrk sets it)

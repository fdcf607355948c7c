-- Uncached views: each request names the next title of a range, so each is a first view.
-- Script args: first work id, how many titles, the path with "{title}" where the id goes.
local first, count, template = 1, 1, "/"
local sent = 0

function init(args)
  first, count, template = tonumber(args[1]), tonumber(args[2]), args[3]
end

function request()
  local path = string.gsub(template, "{title}", tostring(first + (sent % count)))
  sent = sent + 1
  return wrk.format("GET", path)
end

dofile("bench/wrk/percentiles.lua")  -- run from the repository root (run_wrk sets it)

-- Viewers of pages with our macros: each connection is one viewer who opens a macro (Forge invokeRemote
-- with a pre-minted Forge Invocation Token), reads for a while (think time), and opens another.
-- Most views go to a few hot titles, the rest to a long tail of cold ones.
-- Script args: token file (macro<TAB>FIT<TAB>system token<TAB>user token per line, hot lines first),
-- number of hot lines, share of views that go to hot lines (0..1), mean think time in ms.
local entries, hot, hot_share, think = {}, 1, 0.8, 1000
local body = '{"call":{"functionKey":"view","payload":{}},"context":{}}'
local threads = {}
bad = 0

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do
    local key, fit, system, user = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)\t([^\t]*)$")
    if key then entries[#entries + 1] = {key, fit, system, user} end
  end
  hot, hot_share, think = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  math.randomseed(os.time() * 100 + id)
end

function request()
  local i
  if math.random() < hot_share or hot >= #entries then i = math.random(1, hot) else i = math.random(hot + 1, #entries) end
  local e = entries[i]
  return wrk.format("POST", "/forge/macro/" .. e[1], {
    ["Authorization"] = "Bearer " .. e[2],
    ["Content-Type"] = "application/json",
    ["x-forge-oauth-system"] = e[3],
    ["x-forge-oauth-user"] = e[4],
  }, body)
end

function delay()
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end

-- A view that is not a 200 with the macro's panel (an error page, "not connected", a stack trace) is bad.
function response(status, headers, resp)
  if status ~= 200 or not string.find(resp, '"kind":"panel"', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BAD_VIEWS %d\n", total))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %s %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("MAXLAT %d\n", latency.max))
end

-- Viewers of pages with our macros: each connection is one viewer who opens a macro (Forge invokeRemote
-- with a pre-minted Forge Invocation Token), reads for a while (think time), and opens another.
-- Most views go to a few hot titles, the rest to a long tail of cold ones.
-- Script args: token file (macro<TAB>FIT<TAB>system token<TAB>user token[<TAB>title] per line, hot lines
-- first), number of hot lines, share of views that go to hot lines (0..1), mean think time in ms.
-- Every request carries its own trace id (x-b3-traceid), which the app echoes as X-Request-Id and puts on
-- each log line of the request: a bad view is printed with its status, macro, title, request id and the
-- start of its body, so the run's report can name it and find its log lines.
local entries, hot, hot_share, think = {}, 1, 0.8, 1000
local body = '{"call":{"functionKey":"view","payload":{}},"context":{}}'
local threads = {}
local serial, in_flight = 0, {}
local MAX_FAILURES = 100 -- printed per thread; the count stays exact
bad = 0
failures = ""
failures_kept = 0

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do
    local key, fit, system, user, title = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)\t([^\t]*)\t?([^\t]*)$")
    if key then entries[#entries + 1] = {key, fit, system, user, title} end
  end
  hot, hot_share, think = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  math.randomseed(os.time() * 100 + id)
end

function request()
  local i
  if math.random() < hot_share or hot >= #entries then i = math.random(1, hot) else i = math.random(hot + 1, #entries) end
  local e = entries[i]
  serial = serial + 1
  local trace = string.format("load%02d%012d", id, serial)
  in_flight[trace] = i
  return wrk.format("POST", "/forge/macro/" .. e[1], {
    ["Authorization"] = "Bearer " .. e[2],
    ["Content-Type"] = "application/json",
    ["x-forge-oauth-system"] = e[3],
    ["x-forge-oauth-user"] = e[4],
    ["x-b3-traceid"] = trace,
  }, body)
end

function delay()
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end

local function request_id_of(headers)
  for name, value in pairs(headers) do
    if string.lower(name) == "x-request-id" then return value end
  end
  return ""
end

local function one_line(text)
  return (string.gsub(string.sub(text or "", 1, 300), "[\t\r\n]", " "))
end

-- A view that is not a 200 with the macro's panel (an error page, "not connected", a stack trace) is bad.
function response(status, headers, resp)
  local request_id = request_id_of(headers)
  local i = in_flight[request_id]
  in_flight[request_id] = nil
  if status ~= 200 or not string.find(resp, '"kind":"panel"', 1, true) then
    bad = bad + 1
    if failures_kept < MAX_FAILURES then
      failures_kept = failures_kept + 1
      local e = i and entries[i] or {"?", "", "", "", "?"}
      failures = failures .. string.format(
        "BAD_VIEW\t%d\t%s\t%s\t%s\t%s\n", status, request_id ~= "" and request_id or "-", e[1], e[5] ~= "" and e[5] or "?",
        one_line(resp)
      )
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    io.write(t:get("failures"))
  end
  io.write(string.format("BAD_VIEWS %d\n", total))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %s %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("MAXLAT %d\n", latency.max))
  io.write(string.format("MEANLAT %d\n", latency.mean))
end

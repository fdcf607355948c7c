-- Shared by the scripts (loaded with dofile): prints the run's latency percentiles in microseconds, every half
-- percent and 99.9, so an interleaved benchmark can merge its slices of one target into one distribution.
function done(summary, latency, requests)
  local points = {}
  for tenths = 5, 995, 5 do
    points[#points + 1] = string.format("%.1f=%d", tenths / 10, latency:percentile(tenths / 10))
  end
  points[#points + 1] = string.format("99.9=%d", latency:percentile(99.9))
  io.write("C4C-PERCENTILES " .. table.concat(points, " ") .. "\n")
end

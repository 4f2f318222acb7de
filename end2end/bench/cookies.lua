-- wrk: spreads the requests over the Cookie headers of the file $COOKIES names, one a line,
-- so that every session of the file is used (site.bench.ts, server memory by session mode).
local cookies = {}
for line in io.lines(os.getenv("COOKIES")) do
  cookies[#cookies + 1] = line
end
local turn = 0
request = function()
  turn = turn % #cookies + 1
  return wrk.format("GET", "/", { ["Cookie"] = cookies[turn] })
end

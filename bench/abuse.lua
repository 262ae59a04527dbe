-- The misbehaving client of bench/abuse: cycles through the abuse guest's
-- floods (log, out of memory, 100 000 headers through the response factory
-- and in the answer itself, 50 MiB into the cache, 10 MB
-- printed to stdout), or
-- the comma-separated paths in ABUSE_PATHS.
local paths = { "/abuse?log=20000", "/abuse?grow", "/abuse?headers=100000",
                "/abuse?raw_headers=100000", "/abuse?cache=50", "/abuse?stdout=100000" }
local chosen = os.getenv("ABUSE_PATHS")
if chosen and chosen ~= "" then
  paths = {}
  for path in string.gmatch(chosen, "[^,]+") do
    table.insert(paths, path)
  end
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end

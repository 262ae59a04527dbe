-- POSTs an order that bench/project.yml's `Order` schema accepts (ten
-- properties), then reports like wrk-report.lua.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id":42,"customer":"Ada Lovelace","email":"ada@example.com","items":3,' ..
  '"total":129.5,"currency":"EUR","paid":true,"created":"2026-12-05T10:00:00Z",' ..
  '"note":null,"tags":["express","gift"]}'
dofile("bench/wrk-report.lua")

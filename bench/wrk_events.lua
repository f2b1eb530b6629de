-- wrk's script for bench/api_small.py: POST /v0/events with unique NDJSON bodies of SIZE events
-- (event ids "apismall-<RUN>-<thread>-<request>-<k>"), each answer checked (its status and its
-- successful_rows); done() prints one JSON line: requests, seconds, p50/p95 (ms), failures, the
-- last import_id answered. Environment: SIZE, RUN, STATUS (202 or 200).
local size = tonumber(os.getenv("SIZE") or "1")
local run = os.getenv("RUN") or "run"
local expect = tonumber(os.getenv("STATUS") or "202")
local kinds = {"page_view", "product_view", "add_to_cart", "login", "purchase", "search"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-ndjson"
local threads, counter = {}, 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  n, failed, wrong, last, first_failure = 0, 0, 0, "", ""
  stamp = os.date("!%Y-%m-%d %H:%M:%S", os.time() - 600)
end

function request()
  n = n + 1
  local lines = {}
  for k = 1, size do
    lines[k] = string.format(
      '{"event_id":"apismall-%s-%d-%d-%d","customer_id":"c%07d","event_type":"%s","event_value":%.2f,'
        .. '"product_id":"p%05d","category":"books","timestamp":"%s"}\n',
      run, id, n, k, (n * 7 + k) % 2000, kinds[(n + k) % 6 + 1], 1 + ((n * 13 + k) % 199) * 1.01,
      (n + k) % 5000, stamp)
  end
  return wrk.format(nil, nil, nil, table.concat(lines))
end

function response(status, headers, body)
  if status ~= expect then
    failed = failed + 1
    if first_failure == "" then first_failure = status .. " " .. string.sub(body, 1, 300) end
    return
  end
  if tonumber(string.match(body, '"successful_rows":%s*(%d+)')) ~= size then wrong = wrong + 1 end
  last = string.match(body, '"import_id":%s*"(%w+)"') or last
end

function done(summary, latency, requests)
  local failed_all, wrong_all, last_all, first = 0, 0, "", ""
  for _, t in ipairs(threads) do
    failed_all = failed_all + t:get("failed")
    wrong_all = wrong_all + t:get("wrong")
    if t:get("last") ~= "" then last_all = t:get("last") end
    if first == "" then first = t:get("first_failure") end
  end
  first = (string.gsub((string.gsub(first, "%c", " ")), '[\\"]', "'"))
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p95_ms": %.3f, "failed": %d, "wrong_rows": %d, '
      .. '"socket_errors": %d, "last_import_id": "%s", "first_failure": "%s"}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    failed_all, wrong_all, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    last_all, first))
end

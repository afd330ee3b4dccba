-- wrk script for bench_webhook.py: replays pre-signed Twilio webhooks, each thread its own slice.
-- Usage: wrk -t2 -c50 -d10s -s wrk_inbound.lua http://127.0.0.1:PORT/sms/inbound -- requests.tsv
-- Each line of requests.tsv is "<form-encoded body>\t<X-Twilio-Signature>".

local counter = 0

function setup(thread)
  thread:set("id", counter)  -- becomes the global `id` in that thread's own Lua state
  counter = counter + 1
end

function init(args)
  requests = {}
  local index = 0
  local total = tonumber(os.getenv("WRK_THREADS") or "1")
  for line in io.lines(args[1]) do
    if index % total == id then
      local tab = line:find("\t", 1, true)
      local body = line:sub(1, tab - 1)
      local signature = line:sub(tab + 1)
      table.insert(requests, wrk.format("POST", nil, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
      }, body))
    end
    index = index + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then position = 1 end  -- wraps: the generator writes more than a run needs
  return requests[position]
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end

-- wrk script: POST /appointments, one new (barber, slot) per request, never colliding.
-- wrk -s bench/wrk_book.lua URL -- OFFSET TOKEN
-- Request k of thread t is number n = OFFSET + k * THREADS + t, booked as
-- barber 1 + n % 1000 at 2050-01-01 00:00 UTC + (n / 1000) * 30 minutes (barbers are UTC).
local threads = {}
local counter = 0
local offset, token, nthreads
-- Globals, not locals: done() reads each thread's count with thread:get, which sees only
-- a thread's globals (a local here made every run report 0 failures).
failures = 0
shown = 0

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    offset = tonumber(args[1])
    token = args[2]
    nthreads = tonumber(args[3])
end

local base = 2524608000  -- 2050-01-01T00:00:00Z

function request()
    local n = offset + counter * nthreads + tid
    counter = counter + 1
    local t = base + math.floor(n / 1000) * 1800
    local body = string.format(
        '{"barber_id": %d, "service": "Haircut", "booking_date": "%s", "booking_time": "%s"}',
        1 + n % 1000, os.date("!%Y-%m-%d", t), os.date("!%H:%M", t))
    return wrk.format("POST", "/appointments",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

function response(status, headers, body)
    if status ~= 201 then
        failures = failures + 1
        if shown < 3 then
            shown = shown + 1
            io.stderr:write("wrk_book: HTTP " .. status .. " " .. string.sub(body or "", 1, 300) .. "\n")
        end
    end
end

function done(summary, latency, requests)
    local f = 0
    for _, t in ipairs(threads) do f = f + (t:get("failures") or 0) end
    io.write(string.format("bench-failures %d\n", f))
    for _, p in ipairs({50, 90, 99}) do
        io.write(string.format("bench-latency-p%d-us %d\n", p, latency:percentile(p)))
    end
end

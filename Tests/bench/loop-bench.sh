#!/usr/bin/env bash
# loop-bench.sh: what the event loops promise beyond throughput (http-bench.sh measures that).
#
#  1. A handler that blocks does not stall its loop: while four requests to a test-only route
#     that sleeps 2 s are in flight (JINLIN_BENCH_ROUTES=1 adds /bench/sleep), another client
#     polls /healthz; its p99 is printed (target under 20 ms).
#  2. Idle latency: an ID-tail resident search (`/residents?q=<4 digits>`, signed in as a
#     community's staff, USERNAME/PASSWORD, default the seed's staff1) on a warm connection back
#     to back, then one request every 100 ms; p50 and p99 of each and their ratio (target: idle
#     within 1.5x of warm). Each is split into the handler's own time (the Server-Timing `total`
#     of a server started with JINLIN_SERVER_TIMING=1) and the rest: parsing, the event loop,
#     thread hand-overs, the connection and the client.
#  3. The machine's own share of that: Tests/bench/coldcpu.c (built with cc when there is one)
#     times a fixed computation back to back and after 100 ms idle, with no server involved.
#
# A BENCHMARK, not a test: it prints figures next to the targets and never fails on a figure.
#
# Usage: DATA_DIR=DIR Tests/bench/loop-bench.sh
#   DATA_DIR=DIR   a seeded data directory (`jinlin seed --residents ...`); without it a county
#                  of RESIDENTS residents is seeded into a temporary directory
#   RESIDENTS=20000
#   SKIP_BUILD=1   reuse .build/release/jinlin
#   SAMPLES=300    requests per idle-latency series
#   USERNAME=staff1 PASSWORD=jinlin-demo-2026   the account that searches
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
. Tests/bench/lib.sh
SAMPLES=${SAMPLES:-300}
[[ "${SKIP_BUILD:-0}" == 1 ]] || swift build -c release --product jinlin
BIN=$ROOT/.build/release/jinlin
if [[ -z "${DATA_DIR:-}" ]]; then
    DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/jinlin-loop-bench.XXXXXX")
    "$BIN" seed --seed 1 --communities 3 --residents "${RESIDENTS:-20000}" --data-dir "$DATA_DIR" > "$DATA_DIR/seed.log" 2>&1
fi
start_jinlin "$BIN" "$DATA_DIR" JINLIN_BENCH_ROUTES=1 JINLIN_SERVER_TIMING=1
echo "jinlin pid $PID on :$PORT, $(nproc) cores, data $DATA_DIR"
python3 - "$PORT" "${USERNAME:-staff1}" "${PASSWORD:-jinlin-demo-2026}" "$SAMPLES" "$DATA_DIR/jinlin.sqlite" <<'PY'
import http.client, sqlite3, sys, threading, time
from benchclient import Client
port, username, password, samples, db_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def connect():
    return http.client.HTTPConnection("127.0.0.1", port)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p / 100 * len(values))) - 1))] * 1000

# 1. Four sleeping requests in flight; /healthz from another client meanwhile.
done = []
def sleeper():
    c = connect()
    c.request("GET", "/bench/sleep?ms=2000")
    r = c.getresponse(); r.read()
    done.append(r.status)
threads = [threading.Thread(target=sleeper) for _ in range(4)]
for t in threads: t.start()
time.sleep(0.05)
health = connect()
latencies = []
start = time.perf_counter()
while time.perf_counter() - start < 1.8:
    t0 = time.perf_counter()
    health.request("GET", "/healthz")
    r = health.getresponse(); r.read()
    latencies.append(time.perf_counter() - t0)
    time.sleep(0.002)
for t in threads: t.join()
print(f"blocking handler: 4 x /bench/sleep?ms=2000 in flight (answered {sorted(done)}); /healthz from another client: "
      f"{len(latencies)} requests, p50 {pct(latencies, 50):.2f} ms, p99 {pct(latencies, 99):.2f} ms, max {max(latencies) * 1000:.2f} ms "
      f"(target p99 < 20 ms: {'meets' if pct(latencies, 99) < 20 else 'MISSES'})")

# 2. Idle latency of an ID-tail search.
client = Client(port)
request = client.request
assert client.sign_in(username, password), f"sign-in as {username} failed"
db = sqlite3.connect(db_path)
scope = db.execute("SELECT g.path FROM users u JOIN grids g ON g.id = u.scope_grid_id WHERE u.username = ?", [username]).fetchone()[0]
tail = db.execute("""SELECT substr(r.id_number, -4) FROM residents r JOIN grids g ON g.id = r.building_id
                     WHERE g.path >= ? AND g.path < ? LIMIT 1 OFFSET 100""", [scope, scope[:-1] + "0"]).fetchone()[0]
path = f"/residents?q={tail}"
status, page = request("GET", path)
assert status == 200, f"{path} answered {status}"
for _ in range(200): request("GET", path)
handler_times = {}  # per series: the handler's own time (Server-Timing total), in seconds
def series(pause):
    values, handler = [], []
    for _ in range(samples):
        if pause: time.sleep(pause)
        t0 = time.perf_counter()
        status, _ = request("GET", path)
        values.append(time.perf_counter() - t0)
        assert status == 200
        handler.append((client.server_total_ms() or 0) / 1000)
    handler_times[id(values)] = handler
    return values
warm = series(0)
idle = series(0.1)
warm2 = series(0)
warm_all = warm + warm2
handler_warm = handler_times[id(warm)] + handler_times[id(warm2)]
handler_idle = handler_times[id(idle)]
outside_warm = [a - b for a, b in zip(warm_all, handler_warm)]
outside_idle = [a - b for a, b in zip(idle, handler_idle)]
print(f"idle latency, GET {path} (ID tail, {username}):")
print(f"  warm, back to back:   p50 {pct(warm_all, 50):.3f} ms, p99 {pct(warm_all, 99):.3f} ms "
      f"(handler p50 {pct(handler_warm, 50):.3f} ms, the rest {pct(outside_warm, 50):.3f} ms)")
print(f"  one every 100 ms:     p50 {pct(idle, 50):.3f} ms, p99 {pct(idle, 99):.3f} ms "
      f"(handler p50 {pct(handler_idle, 50):.3f} ms, the rest {pct(outside_idle, 50):.3f} ms)")
ratio = pct(idle, 50) / pct(warm_all, 50)
print(f"  idle / warm (p50): {ratio:.2f}x (target within 1.5x: {'meets' if ratio <= 1.5 else 'MISSES'}); "
      f"p99: {pct(idle, 99) / pct(warm_all, 99):.2f}x")
PY

# 3. The machine's own idle penalty, for comparison.
if command -v cc > /dev/null; then
    COLD=$(mktemp -d "${TMPDIR:-/tmp}/jinlin-coldcpu.XXXXXX")
    cc -O2 -o "$COLD/coldcpu" Tests/bench/coldcpu.c && echo "this machine, no server: $("$COLD/coldcpu" 1024 100 "${SAMPLES}")"
    rm -rf "$COLD"
else
    echo "this machine, no server: (no C compiler; Tests/bench/coldcpu.c not run)"
fi

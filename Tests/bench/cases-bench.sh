#!/usr/bin/env bash
# cases-bench.sh: the county-wide overdue list and rates page (targets: under 100 ms p95 over
# HTTP at the 1,000,000-resident seed with about 200,000 cases, and the rates within 2x of the
# same aggregate SQL run in sqlite3).
#
# A BENCHMARK, not a test: it prints figures next to the targets and never fails on a figure.
#
# Usage: DATA_DIR=DIR Tests/bench/cases-bench.sh
#   DATA_DIR=DIR   a data directory seeded with `jinlin seed --residents ...` (its admin password in
#                  DIR/admin-password, as members-bench.sh leaves it); the cases are added by
#                  running the seed again (`jinlin seed --seed 1 --communities 3 --data-dir DIR`)
#   SKIP_BUILD=1   reuse .build/release/jinlin
#   REQUESTS=200   requests per page, on one kept-alive connection
#   MONTH=YYYY-MM  the month of the rates (default: the month 2 months ago, a full one)
set -euo pipefail
REQUESTS=${REQUESTS:-200}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
. Tests/bench/lib.sh
[[ -n "${DATA_DIR:-}" && -f "$DATA_DIR/admin-password" ]] || { echo "set DATA_DIR to a seeded data directory (see members-bench.sh)"; exit 1; }
[[ "${SKIP_BUILD:-0}" == 1 ]] || swift build -c release --product jinlin
BIN=$ROOT/.build/release/jinlin
DATA=$DATA_DIR
if [[ "$(sqlite3 "$DATA/jinlin.sqlite" "SELECT count(*) FROM sqlite_master WHERE name = 'cases'")" == 0 ]] \
   || [[ "$(sqlite3 "$DATA/jinlin.sqlite" "SELECT count(*) FROM cases")" == 0 ]]; then
    start=$(date +%s.%N)
    "$BIN" seed --seed 1 --communities 3 --data-dir "$DATA" > "$DATA/seed-cases.log" 2>&1
    echo "seed of the cases: $(echo "$(date +%s.%N) - $start" | bc) s"
    grep '诉求工单' "$DATA/seed-cases.log" || true
fi
echo "cases: $(sqlite3 "$DATA/jinlin.sqlite" "SELECT count(*) FROM cases"), open: $(sqlite3 "$DATA/jinlin.sqlite" "SELECT count(*) FROM cases WHERE due_at IS NOT NULL")"
MONTH=${MONTH:-$(sqlite3 "$DATA/jinlin.sqlite" "SELECT strftime('%Y-%m', 'now', '+8 hours', 'start of month', '-2 months')")}
"$BIN" report-sql --cases-rates --data-dir "$DATA" --month "$MONTH" > "$DATA/rates.sql" 2> "$DATA/rates-sql.err"
echo "rates page statements: $(grep -c ';$' "$DATA/rates.sql")"
start_jinlin "$BIN" "$DATA"
python3 - "$PORT" "$DATA/admin-password" "$REQUESTS" "$DATA/jinlin.sqlite" "$MONTH" "$DATA/rates.sql" <<'PY'
import sqlite3, subprocess, sys, time
from benchclient import Client
port, password_path, requests, db_path, month, sql_path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]

client = Client(port)
request = client.request
client.sign_in_admin(password_path)

def p95(samples):
    samples = sorted(samples)
    return samples[max(0, int(len(samples) * 0.95) - 1)] * 1000

def timed(path):
    for _ in range(5):
        request("GET", path)
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        status, _ = request("GET", path)
        samples.append(time.perf_counter() - start)
        assert status == 200, f"{path} answered {status}"
    return p95(samples), sorted(samples)[len(samples) // 2] * 1000

# The statements the rates page runs (Domain/CaseRates.swift through CaseRatesPages.aggregate),
# traced with their arguments by `jinlin report-sql --cases-rates`: the same SQL in sqlite3.
script = open(sql_path).read()

def sqlite_time():
    samples = []
    for _ in range(max(20, requests // 10)):
        start = time.perf_counter()
        subprocess.run(["sqlite3", db_path], input=script, text=True, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return p95(samples), sorted(samples)[len(samples) // 2] * 1000

overdue = timed("/cases/overdue")
rates = timed(f"/cases/rates?month={month}")
lite = sqlite_time()
print(f"/cases/overdue (county): p95 {overdue[0]:.1f} ms, p50 {overdue[1]:.1f} ms  (target < 100 ms p95)")
print(f"/cases/rates?month={month} (county): p95 {rates[0]:.1f} ms, p50 {rates[1]:.1f} ms  (target < 100 ms p95)")
print(f"the same statements in sqlite3 (a process each run, opening the file): p95 {lite[0]:.1f} ms, p50 {lite[1]:.1f} ms")
print(f"ratio HTTP / sqlite3 (p50): {rates[1] / lite[1]:.2f}x  (target within 2x)")
PY

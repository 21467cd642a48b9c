#!/usr/bin/env bash
# members-bench.sh: the member list, the points ranking board and the member's wish board at
# county scale (targets: under 50 ms p95 over HTTP with about 1,000,000 residents, their party
# members and about 100,000 wishes).
#
# A BENCHMARK, not a test: it prints figures next to the target and never fails on a figure.
# It exits non-zero only when it cannot run (build, seed, server start or sign-in failure).
#
# Usage: Tests/bench/members-bench.sh
#   RESIDENTS=1000000  residents to seed (their party members come with them)
#   SKIP_BUILD=1       reuse .build/release/jinlin
#   DATA_DIR=DIR       keep (or reuse) the seeded data directory
#   REQUESTS=200       requests per measured page, on one kept-alive connection
#
# It signs in as the first-run admin (scope: the whole county, the widest list there is) and
# as staff of one community, and times each page from the request's first byte to the last
# byte of the response.
set -euo pipefail
RESIDENTS=${RESIDENTS:-1000000}
REQUESTS=${REQUESTS:-200}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
. Tests/bench/lib.sh
[[ "${SKIP_BUILD:-0}" == 1 ]] || swift build -c release --product jinlin
BIN=$ROOT/.build/release/jinlin
DATA=${DATA_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/jinlin-members-bench.XXXXXX")}
seed_county "$BIN" "$DATA" "$RESIDENTS"
grep '党员 members' "$DATA/seed.log" || true
start_jinlin "$BIN" "$DATA"
python3 - "$PORT" "$DATA/admin-password" "$REQUESTS" "$DATA/jinlin.sqlite" <<'PY'
import http.client, re, sqlite3, statistics, sys, time, urllib.parse
from benchclient import Client
port, password_path, requests, db_path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

db = sqlite3.connect(db_path)
members = db.execute("SELECT count(*) FROM party_members").fetchone()[0]
residents = db.execute("SELECT count(*) FROM residents").fetchone()[0]
staff = db.execute("""SELECT u.username, g.name, (SELECT count(*) FROM party_members m JOIN grids x ON x.id = m.grid_id
                      WHERE x.path >= g.path AND x.path < g.path || '~') FROM users u JOIN grids g ON g.id = u.scope_grid_id
                      WHERE u.role = 'staff' AND g.kind = 'community' ORDER BY 3 DESC LIMIT 1""").fetchone()
surname = db.execute("""SELECT substr(r.name, 1, 1) FROM party_members m JOIN residents r ON r.id = m.resident_id
                        GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""").fetchone()[0]
name2 = db.execute("""SELECT substr(r.name, 2, 2) FROM party_members m JOIN residents r ON r.id = m.resident_id
                      WHERE length(r.name) = 3 LIMIT 1 OFFSET 500""").fetchone()[0]
print(f"residents: {residents}, party members: {members}; staff {staff[0]} of {staff[1]} ({staff[2]} members)")

def measure(client, path):
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        status, text = client.request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200: sys.exit(f"GET {path} answered {status}")
    times.sort()
    p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    total = re.search(r"共 <strong>(\d+)</strong> 人", text)
    verdict = "meets" if p95 < 50 else "MISSES"
    print(f"  {path:60s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({total.group(1) if total else '?'} matches; target p95 < 50 ms: {verdict})")

admin = Client(port)
admin.sign_in_admin(password_path)
q = urllib.parse.quote
print("admin (the whole county):")
for path in ["/members", "/members?q=" + q(surname), "/members?q=" + q(name2), "/members?category=employed&reported=no",
             "/members?page=100"]:
    measure(admin, path)
print("admin, the other county-wide lists (targets: the wish board and the ranking board under 50 ms p95):")
wishes = db.execute("SELECT count(*) FROM wishes").fetchone()[0] if db.execute(
    "SELECT 1 FROM sqlite_schema WHERE name = 'wishes'").fetchone() else 0
year = time.strftime("%Y")
for path in [f"/points/board?year={year}"]:
    measure(admin, path)
member = Client(port)
if member.sign_in("member1", "jinlin-demo-2026"):
    print(f"member1 (the wish board, {wishes} wishes in the county):")
    for path in ["/wishes", "/me"]:
        measure(member, path)
s = Client(port)
if not s.sign_in(staff[0], "jinlin-demo-2026"): sys.exit(f"sign-in as {staff[0]} failed")
print(f"staff ({staff[1]}):")
for path in ["/members", "/members?q=" + q(surname), "/members?q=" + q(name2)]:
    measure(s, path)
PY

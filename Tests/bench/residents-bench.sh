#!/usr/bin/env bash
# residents-bench.sh: the residents module at county scale — seeding, search, import, list.
#
# This is a BENCHMARK, not a test: it prints figures with the targets next to them and never
# fails because a figure misses a target. It exits non-zero only when it cannot run at all
# (build failure, seed failure, a server that does not start, a sign-in that fails).
#
# Usage (from anywhere; the script finds the package root itself):
#   Tests/bench/residents-bench.sh                          # 1,000,000 residents, full run
#   RESIDENTS=20000 SKIP_BUILD=1 Tests/bench/residents-bench.sh   # quick run
#   DATA_DIR=/tmp/jl-1m Tests/bench/residents-bench.sh      # keep (or reuse) the seeded data dir
#
# Environment:
#   RESIDENTS=1000000   residents to seed (jinlin seed --residents)
#   SEED=1              demo seed
#   SKIP_BUILD=1        do not run `swift build -c release --product jinlin`
#   DATA_DIR=DIR        data directory; if it already holds a seeded database, seeding is skipped
#                       (default: a fresh folder in the temp dir, deleted at the end)
#   REQUESTS=200        requests (and sqlite3 runs) per search query (a p95 of 50 samples is
#                       their third slowest, which one hiccup of the machine decides)
#   ROUNDS=4            the search samples are taken in this many rounds of HTTP, new connection
#                       and sqlite3 in turn, so that all three meet the machine's speed drifts
#   IMPORT_ROWS=100000  rows in the import CSV (0 skips the import)
#   WRK_SECONDS=15      duration of each wrk run
#   MAX_SECONDS=5400    hard limit for the whole run (a watchdog stops it)
#   RESULTS=FILE        report file (default: residents-bench-results.txt in the work dir)
#   CAPTURE_SQL=0       do not build/run the test that captures the server's SQL (placeholders)
#
# What it measures:
#   1. seed: wall time, the seed's own summary (rows/s per table), database size, peak RSS
#   2. search: /residents?q= for a 2-character name, a 3-character name, a phone tail
#      (4 digits) and an ID tail (4 characters: longer partial numbers are refused), over HTTP (p50/p95: curl time_total on one
#      kept-alive connection, as a browser sends them, and a new TCP connection for each request
#      from one client process, new-connection-get.py) and the same SQL run directly in the
#      sqlite3 shell (CPU time per statement, p50/p95)
#   3. import: a 100,000-row CSV posted to /residents/import (dry run off), timed until the
#      import job is done; rows/s
#   4. list: wrk -t2 -c64 on the signed-in /residents page (50 rows), req/s, p50, p99, and
#      where a request's time goes: the server runs with --server-timing, and the Server-Timing
#      headers of sequential requests give session, query, render and the whole handler
#   5. server memory (VmHWM / VmRSS from /proc, and RSS split into RssAnon, the heap, and RssFile,
#      the pages of the memory-mapped database file) after each phase
#
# Scope: the demo county's roots are its communities (there is no county node), and admin has
# no residents permission, so the widest scope an account can have is one community. The
# script signs in as staff (and as a coordinator) of the community with the most residents.
#
# Direct SQL: the script asks the app for the exact statements the list handler runs for each
# measured request (count, page of ids, the rows shown, the form's options, the plan's
# estimates), with their arguments written in: Tests/AppTests/SeedResidentsBenchSQL.swift,
# run through `swift test` against the seeded file. If that cannot run (CAPTURE_SQL=0, or the
# test build fails), stand-in SQL shaped on the schema's indexes is used instead and the
# report says "PLACEHOLDER SQL" next to those figures.

set -uo pipefail

RESIDENTS=${RESIDENTS:-1000000}
SEED=${SEED:-1}
REQUESTS=${REQUESTS:-200}
ROUNDS=${ROUNDS:-4}
IMPORT_ROWS=${IMPORT_ROWS:-100000}
WRK_SECONDS=${WRK_SECONDS:-15}
MAX_SECONDS=${MAX_SECONDS:-5400}
BENCH_PASSWORD=${BENCH_PASSWORD:-residents-bench-1}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
BIN=$ROOT/.build/release/jinlin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jinlin-residents-bench.XXXXXX")
KEEP_DATA=1
if [[ -z ${DATA_DIR:-} ]]; then
    DATA_DIR=$WORK/data
    KEEP_DATA=0
fi
DB=$DATA_DIR/jinlin.sqlite
RESULTS=${RESULTS:-$WORK/residents-bench-results.txt}
case $RESULTS in /*) ;; *) RESULTS="$PWD/$RESULTS" ;; esac
mkdir -p "$(dirname "$RESULTS")" "$DATA_DIR"
: > "$RESULTS"

SERVER_PID=""
WATCHDOG_PID=""

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
sayf() { local fmt=$1; shift; printf "$fmt" "$@" | tee -a "$RESULTS"; }
die() { say "ERROR: $*"; exit 1; }

cleanup() {
    local status=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [[ -n $WATCHDOG_PID ]]; then kill "$WATCHDOG_PID" 2>/dev/null; wait "$WATCHDOG_PID" 2>/dev/null; fi
    if [[ $KEEP_DATA == 0 ]]; then rm -rf "$DATA_DIR"; fi
    echo
    echo "results: $RESULTS"
    exit $status
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Bounded run time: the watchdog sends TERM to this script, whose trap stops the server.
# It stops its own sleep when it is stopped, so nothing is left behind.
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "$MAX_SECONDS" & sleeper=$!
    wait "$sleeper" || exit 0
    echo "residents-bench: time limit of $MAX_SECONDS s reached" >&2
    kill -TERM $$
) &
WATCHDOG_PID=$!

for tool in curl sqlite3 wrk python3 awk; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

now_ns() { date +%s%N; }
# Milliseconds between two now_ns values.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# p50 and p95 of the numbers on stdin (nearest rank), as "p50 p95 n".
percentiles() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - 0"; exit }
        i50 = int(NR * 0.50 + 0.999999); i95 = int(NR * 0.95 + 0.999999)
        printf "%.3f %.3f %d\n", v[i50], v[i95], NR }'
}

# Escape a value for a single-quoted SQL literal.
sqlq() { printf "'%s'" "${1//\'/\'\'}"; }

# Runs one SQL statement $2 times in one sqlite3 session and prints the CPU time (user+sys,
# in ms) of each run. (.timer's "real" has a resolution of 1 ms only; these queries are warm
# and CPU-bound, so CPU time is their time.)
sql_times() {
    local sql=$1 count=$2
    { echo ".timer on"; echo ".output /dev/null"; for _ in $(seq "$count"); do echo "$sql"; done; } \
        | sqlite3 "$DB" | awk '/^Run Time/ { printf "%.3f\n", ($6 + $8) * 1000 }'
}

# /proc figures of the server.
server_memory() {
    if [[ -n $SERVER_PID && -r /proc/$SERVER_PID/status ]]; then
        awk '/^VmHWM|^VmRSS|^RssAnon|^RssFile/ { printf "%s %.1f MiB  ", $1, $2 / 1024 }' "/proc/$SERVER_PID/status"
    else
        echo "n/a"
    fi
}

say "近邻 Jinlin residents benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
say "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
say "load average at start: $(loadavg) (other work on the machine skews every figure below)"
say "settings: RESIDENTS=$RESIDENTS SEED=$SEED REQUESTS=$REQUESTS ROUNDS=$ROUNDS IMPORT_ROWS=$IMPORT_ROWS WRK_SECONDS=$WRK_SECONDS"
say "work dir: $WORK   data dir: $DATA_DIR"
say ""

# ---------------------------------------------------------------------------
# 0. Build
# ---------------------------------------------------------------------------
cd "$ROOT" || die "cannot cd to $ROOT"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    say "== build (release)"
    start=$(now_ns)
    swift build -c release --product jinlin > "$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; die "release build failed"; }
    say "   built in $(ms_between "$start" "$(now_ns)") ms"
fi
[[ -x $BIN ]] || die "$BIN is missing (build it, or unset SKIP_BUILD)"

# ---------------------------------------------------------------------------
# 1. Seed
# ---------------------------------------------------------------------------
say ""
say "== 1. seed: jinlin seed --seed $SEED --residents $RESIDENTS"
if [[ -f $DB ]] && [[ $(sqlite3 "$DB" "SELECT count(*) FROM residents" 2>/dev/null || echo 0) -gt 0 ]]; then
    say "   reusing the seeded database in $DATA_DIR ($(sqlite3 "$DB" "SELECT count(*) FROM residents") residents); seeding skipped"
else
    start=$(now_ns)
    /usr/bin/time -v -o "$WORK/seed.time" timeout 3600 "$BIN" seed --seed "$SEED" --residents "$RESIDENTS" \
        --data-dir "$DATA_DIR" --root "$ROOT" > "$WORK/seed.out" 2> "$WORK/seed.err" \
        || { tail -20 "$WORK/seed.err"; die "seeding failed"; }
    seed_ms=$(ms_between "$start" "$(now_ns)")
    # The seed's own report on residents (rule, per-table rates, shares, size, memory).
    sed -n '/^规则 rule/,$p' "$WORK/seed.out" | tee -a "$RESULTS"
    say ""
    sayf "   seed wall time (whole command, incl. migrations and the grid tree): %.1f s\n" "$(awk -v m="$seed_ms" 'BEGIN { print m / 1000 }')"
    sayf "   seed peak RSS (/usr/bin/time): %s MiB\n" "$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$WORK/seed.time")"
fi
db_bytes=$(( $(stat -c %s "$DB") + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))
sayf "   database size: %.1f MiB (%d bytes)\n" "$(awk -v b="$db_bytes" 'BEGIN { print b / 1048576 }')" "$db_bytes"
say "   rows: $(sqlite3 "$DB" "SELECT (SELECT count(*) FROM residents) || ' residents, ' || (SELECT count(*) FROM houses) || ' houses, ' || (SELECT count(*) FROM residences) || ' residences, ' || (SELECT count(*) FROM resident_name_grams) || ' name grams, ' || (SELECT count(*) FROM resident_tags) || ' tags'")"

# ---------------------------------------------------------------------------
# Scope: the community with the most active residents, and accounts scoped to it.
# ---------------------------------------------------------------------------
IFS='|' read -r COMMUNITY_ID COMMUNITY_CODE COMMUNITY_NAME COMMUNITY_PATH COMMUNITY_RESIDENTS < <(sqlite3 "$DB" "
    SELECT c.id, c.code, c.name, c.path, count(*) AS n
    FROM residents r
    JOIN grids b ON b.id = r.building_id
    JOIN grids c ON c.id = CAST(substr(b.path, 2, instr(substr(b.path, 2), '/') - 1) AS INTEGER)
    WHERE r.status = 'active'
    GROUP BY c.id ORDER BY n DESC, c.id LIMIT 1")
[[ -n ${COMMUNITY_ID:-} ]] || die "no community with residents"
LO=$COMMUNITY_PATH
HI=${COMMUNITY_PATH%/}0        # '/12/' → '/120': the end of the subtree's path range
say ""
say "scope: $COMMUNITY_NAME ($COMMUNITY_CODE, path $LO), $COMMUNITY_RESIDENTS active residents of $(sqlite3 "$DB" "SELECT count(*) FROM residents WHERE status = 'active'") in the county"

# Accounts for the benchmark, scoped to that community (create-user, as an operator would).
for role in staff coordinator; do
    user="bench-$role"
    [[ -n $(sqlite3 "$DB" "SELECT 1 FROM users WHERE username = $(sqlq "$user")") ]] && continue
    printf '%s\n' "$BENCH_PASSWORD" | "$BIN" create-user --data-dir "$DATA_DIR" --root "$ROOT" --username "$user" \
        --display-name "压测$role" --role "$role" --scope-code "$COMMUNITY_CODE" --password-stdin \
        > "$WORK/create-$role.out" 2>&1 || { cat "$WORK/create-$role.out"; die "create-user $user failed"; }
done

# ---------------------------------------------------------------------------
# Search terms from the seeded data, and the SQL the server runs for each request
# ---------------------------------------------------------------------------
scope_sql="b.path >= $(sqlq "$LO") AND b.path < $(sqlq "$HI")"
NAME2=$(sqlite3 "$DB" "SELECT r.name FROM residents r JOIN grids b ON b.id = r.building_id WHERE $scope_sql AND r.status = 'active' AND length(r.name) = 2 GROUP BY r.name ORDER BY count(*) DESC, r.name LIMIT 1")
NAME3=$(sqlite3 "$DB" "SELECT r.name FROM residents r JOIN grids b ON b.id = r.building_id WHERE $scope_sql AND r.status = 'active' AND length(r.name) = 3 GROUP BY r.name ORDER BY count(*) DESC, r.name LIMIT 1")
PHONE4=$(sqlite3 "$DB" "SELECT substr(r.phone, 8) FROM residents r JOIN grids b ON b.id = r.building_id WHERE $scope_sql AND r.phone IS NOT NULL ORDER BY r.id LIMIT 1 OFFSET 100")
ID4=$(sqlite3 "$DB" "SELECT substr(r.id_number, 15) FROM residents r JOIN grids b ON b.id = r.building_id WHERE $scope_sql ORDER BY r.id LIMIT 1 OFFSET 200")

# Writes pending dirty pages (the seed's database, the import's WAL and checkpoint) to disk
# before a phase is timed, so that a phase does not pay for the previous one's writeback: with
# 600 MB waiting to be flushed, a 100,000-row import took 4.2 s instead of 3.3–3.8 s here.
settle() {
    local dirty
    dirty=$(awk '/^Dirty:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
    sync
    say "   (sync before timing: $dirty MiB of pending writes flushed)"
}

reverse_text() { python3 -c 'import sys; print(sys.argv[1][::-1], end="")' "$1"; }

# PLACEHOLDER SQL, used only when the server's own statements cannot be captured: the count
# and the page of results on the schema's indexes.
placeholder_sql() {
    local kind=$1 term=$2 scope=$3 where rv
    case $kind in
        name2) where="r.id IN (SELECT resident_id FROM resident_name_grams WHERE gram = $(sqlq "$term"))" ;;
        name3) where="r.id IN (SELECT resident_id FROM resident_name_grams WHERE gram = $(sqlq "${term:0:2}")) AND r.name LIKE $(sqlq "%$term%")" ;;
        phone) rv=$(reverse_text "$term"); where="r.phone_rev >= $(sqlq "$rv") AND r.phone_rev < $(sqlq "$rv:")" ;;
        id) rv=$(reverse_text "$term"); where="r.id_number_rev >= $(sqlq "$rv") AND r.id_number_rev < $(sqlq "$rv~")" ;;
        list) where="r.status = 'active'" ;;
    esac
    local area=""
    [[ $scope == scoped ]] && area=" AND r.building_id IN (SELECT id FROM grids WHERE path >= $(sqlq "$LO") AND path < $(sqlq "$HI") AND kind = 'building')"
    printf '%s\tSELECT count(*) FROM residents r WHERE %s%s\n' "$kind" "$where" "$area"
    printf '%s\tSELECT r.id, r.name, r.sex, r.birth_date, r.phone, r.id_number FROM residents r WHERE %s%s ORDER BY r.building_id, r.id LIMIT 50\n' "$kind" "$where" "$area"
}

# Per-request CPU ms (sqlite3 .timer user+sys; its "real" has 1 ms resolution only, and these
# statements are warm and CPU-bound) of the statements of one label, run $3 times in one
# session: one number per request. $4: an awk regex picking statements (default: all).
label_times() {
    local file=$1 label=$2 count=$3 pick=${4:-.} stmts=$WORK/stmts-$2.sql n
    awk -F'\t' -v l="$label" -v p="$pick" '$1 == l { sub(/^[^\t]*\t/, ""); if ($0 ~ p) print $0 ";" }' "$file" > "$stmts"
    n=$(wc -l < "$stmts")
    [[ $n -gt 0 ]] || return 0
    { echo ".timer on"; echo ".output /dev/null"; for _ in $(seq "$count"); do cat "$stmts"; done; } | sqlite3 "$DB" \
        | awk -v n="$n" '/^Run Time/ { s += ($6 + $8) * 1000; if (++i % n == 0) { printf "%.3f\n", s; s = 0 } }'
}
CORE='^SELECT (count[(][*][)]|r[.]id) FROM residents r'

QUERIES="name2=$NAME2;name3=$NAME3;phone=$PHONE4;id=$ID4;list="
SQL_SCOPED=$WORK/sql-scoped.tsv
SQL_COUNTY=$WORK/sql-county.tsv
SQL_KIND="server's own SQL"
capture_sql() {
    JINLIN_RESIDENTS_BENCH_DB=$DB JINLIN_RESIDENTS_BENCH_SCOPE=$1 JINLIN_RESIDENTS_BENCH_QUERIES=$QUERIES \
        JINLIN_RESIDENTS_BENCH_OUT=$2 timeout 2400 swift test --filter SeedResidentsBenchSQL >> "$WORK/capture.log" 2>&1 \
        && [[ -s $2 ]]
}
if [[ ${CAPTURE_SQL:-1} == 1 ]] && capture_sql "$LO" "$SQL_SCOPED" && capture_sql "" "$SQL_COUNTY"; then
    say "   SQL: captured from the list handler's steps (Tests/AppTests/SeedResidentsBenchSQL.swift): $SQL_SCOPED"
else
    SQL_KIND="PLACEHOLDER SQL"
    say "   SQL: PLACEHOLDER (capture skipped or failed; see $WORK/capture.log)"
    : > "$SQL_SCOPED"; : > "$SQL_COUNTY"
    for spec in "name2:$NAME2" "name3:$NAME3" "phone:$PHONE4" "id:$ID4" "list:"; do
        placeholder_sql "${spec%%:*}" "${spec#*:}" scoped >> "$SQL_SCOPED"
        placeholder_sql "${spec%%:*}" "${spec#*:}" county >> "$SQL_COUNTY"
    done
fi

# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------
"$BIN" serve --port 0 --data-dir "$DATA_DIR" --root "$ROOT" --access-log "$WORK/access.log" --server-timing \
    > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
PORT=""
for _ in $(seq 300); do
    PORT=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/serve.out" | head -1)
    [[ -n $PORT ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err"; die "server exited"; }
    sleep 0.1
done
[[ -n $PORT ]] || die "server did not print its port within 30 s"
BASE="http://127.0.0.1:$PORT"
say "server: pid $SERVER_PID on $BASE; memory after start: $(server_memory)"

# Signs in; prints the session cookie's value. Follows a forced password change.
sign_in() {
    local user=$1 password=$2 jar=$WORK/jar-$1
    rm -f "$jar"
    curl -s --max-time 10 -c "$jar" -b "$jar" -o "$WORK/login.html" "$BASE/login" || return 1
    local csrf
    csrf=$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | head -1)
    local out
    out=$(curl -s --max-time 30 -c "$jar" -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
        --data-urlencode "username=$user" --data-urlencode "password=$password" --data-urlencode "_csrf=$csrf" "$BASE/login")
    [[ ${out%% *} == 303 ]] || { echo "sign-in as $user answered $out" >&2; return 1; }
    if [[ $out == */account/password ]]; then
        curl -s --max-time 10 -c "$jar" -b "$jar" -o "$WORK/password.html" "$BASE/account/password"
        csrf=$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$WORK/password.html" | head -1)
        local new="$password-2"
        curl -s --max-time 30 -c "$jar" -b "$jar" -o /dev/null --data-urlencode "current_password=$password" \
            --data-urlencode "new_password=$new" --data-urlencode "confirm_password=$new" --data-urlencode "_csrf=$csrf" \
            "$BASE/account/password"
    fi
    awk '$6 == "jinlin_session" { print $7 }' "$jar" | tail -1
}

STAFF_SESSION=$(sign_in bench-staff "$BENCH_PASSWORD") && [[ -n $STAFF_SESSION ]] || die "cannot sign in as bench-staff"
COORD_SESSION=$(sign_in bench-coordinator "$BENCH_PASSWORD") && [[ -n $COORD_SESSION ]] || die "cannot sign in as bench-coordinator"
say "signed in: bench-staff and bench-coordinator (scope $COMMUNITY_CODE)"

# GET with the staff session; prints "status seconds bytes".
get_timed() {
    curl -s --max-time 30 -o /dev/null -H "Cookie: jinlin_session=$2" -w '%{http_code} %{time_total} %{size_download}\n' "$BASE$1"
}

# $3 GETs of $1 with session $2 on one kept-alive connection (one curl, many URLs); prints
# "status seconds bytes" per request, and writes their Server-Timing headers to $4.
get_kept_alive() {
    local args=() i out
    for i in $(seq "$3"); do args+=(-o /dev/null "$BASE$1"); done
    out=$(curl -s --max-time 120 -H "Cookie: jinlin_session=$2" \
        -w '%{http_code} %{time_total} %{size_download}\t%header{server-timing}\n' "${args[@]}")
    cut -f2 <<< "$out" > "$4"
    cut -f1 <<< "$out"
}

# Mean milliseconds per phase of Server-Timing lines on stdin:
# "session query render total n".
timing_means() {
    awk '{ for (i = 1; i <= NF; i++) if (split($i, kv, ";dur=") == 2) { gsub(",", "", kv[2]); sum[kv[1]] += kv[2] } n++ }
        END { if (n == 0) { print "- - - - 0"; exit }
              printf "%.3f %.3f %.3f %.3f %d\n", sum["session"] / n, sum["query"] / n, sum["render"] / n, sum["total"] / n, n }'
}

# The total the page shows ("共 N 人").
page_total() {
    curl -s --max-time 30 -H "Cookie: jinlin_session=$2" "$BASE$1" | sed -n 's/.*共 <strong>\([0-9]*\)<\/strong> 人.*/\1/p' | head -1
}

urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

# ---------------------------------------------------------------------------
# 2. Search
# ---------------------------------------------------------------------------
say ""
say "== 2. search: /residents?q=… ($REQUESTS requests each, staff of $COMMUNITY_CODE)"
settle

sayf "   %-14s %6s %9s %9s %9s %9s %9s %9s %9s %7s %7s  %-8s %s\n" "query" "hits" "http p50" "http p95" "new p95" "sql p50" "sql p95" "core p50" "county" "ratio" "new" "HTTP" "term"
for spec in "name2:$NAME2:2-char name" "name3:$NAME3:3-char name" "phone:$PHONE4:phone tail 4" "id:$ID4:ID tail 4"; do
    IFS=: read -r kind term label <<< "$spec"
    [[ -n $term ]] || { say "   $label: no term found in scope; skipped"; continue; }
    q=$(urlencode "$term")
    hits=$(page_total "/residents?q=$q" "$STAFF_SESSION")
    # The machine's speed drifts by tens of percent within a minute, so the samples are taken
    # in rounds, each of the three kinds in turn, and pooled: all three see the same moods.
    : > "$WORK/http-$kind.txt"; : > "$WORK/http-new-$kind.txt"; : > "$WORK/sql-$kind.txt"; : > "$WORK/timing-$kind.txt"
    per_round=$(( (REQUESTS + ROUNDS - 1) / ROUNDS ))
    for _ in $(seq "$ROUNDS"); do
        # One connection, as a browser keeps it: the first request warms up and is dropped.
        get_kept_alive "/residents?q=$q" "$STAFF_SESSION" $(( per_round + 1 )) "$WORK/timing-round.txt" \
            | tail -n +2 >> "$WORK/http-$kind.txt"
        tail -n +2 "$WORK/timing-round.txt" >> "$WORK/timing-$kind.txt"
        # A new connection for each request, from one client process.
        python3 "$SCRIPT_DIR/new-connection-get.py" --port "$PORT" --path "/residents?q=$q" \
            --cookie "jinlin_session=$STAFF_SESSION" --count "$per_round" >> "$WORK/http-new-$kind.txt"
        # A new sqlite3 session: its first run reads the schema and is dropped too.
        label_times "$SQL_SCOPED" "$kind" $(( per_round + 1 )) | tail -n +2 >> "$WORK/sql-$kind.txt"
    done
    codes=$(cat "$WORK/http-$kind.txt" "$WORK/http-new-$kind.txt" | awk '{ c[$1]++ } END { for (k in c) printf "%s×%d ", k, c[k] }')
    read -r hp50 hp95 _ < <(awk '{ print $2 * 1000 }' "$WORK/http-$kind.txt" | percentiles)
    read -r _ np95 _ < <(awk '{ print $2 * 1000 }' "$WORK/http-new-$kind.txt" | percentiles)
    read -r sp50 sp95 _ < <(percentiles < "$WORK/sql-$kind.txt")
    read -r kp50 _ _ < <(label_times "$SQL_SCOPED" "$kind" "$REQUESTS" "$CORE" | percentiles)
    read -r cp50 _ _ < <(label_times "$SQL_COUNTY" "$kind" "$REQUESTS" | percentiles)
    ratio=$(awk -v h="$hp95" -v s="$sp95" 'BEGIN { if (s > 0) printf "%.1f×", h / s; else print "-" }')
    nratio=$(awk -v h="$np95" -v s="$sp95" 'BEGIN { if (s > 0) printf "%.1f×", h / s; else print "-" }')
    sayf "   %-14s %6s %7.2fms %7.2fms %7.2fms %7.2fms %7.2fms %7.2fms %7.2fms %7s %7s  %-8s %s\n" \
        "$label" "${hits:-?}" "$hp50" "$hp95" "$np95" "$sp50" "$sp95" "$kp50" "$cp50" "$ratio" "$nratio" "$codes" "$term"
    read -r ts tq tr tt tn < <(timing_means < "$WORK/timing-$kind.txt")
    sayf "   %-14s server (Server-Timing, mean of %s): session %s ms, query %s ms, render %s ms, handler total %s ms\n" "" "$tn" "$ts" "$tq" "$tr" "$tt"
done
say "   http = curl time_total for GET /residents?q= (page rendered) on one kept-alive connection, as a browser"
say "   sends them; new = the same with a new TCP connection for each request, from one Python process"
say "   (Tests/bench/new-connection-get.py: the handshake and the server's per-connection work, without a"
say "   client process started per request, which a curl per request adds: about 1.5 ms here);"
say "   sql = every statement the request runs, in a warm sqlite3 session, CPU ms per request ($SQL_KIND);"
say "   the three kinds of samples are taken in $ROUNDS rounds in turn, each round's first HTTP request and first"
say "   sqlite3 run dropped (warm-up);"
say "   core = the count and the page-of-ids statements only; county = the same request without a scope (nobody has"
say "   that scope: it shows the search over all residents); ratio = http p95 / sql p95 (new: new p95 / sql p95)."
say "   targets: search p95 < 50 ms, and within 2× of direct sqlite3."
say "   server memory: $(server_memory)"

# ---------------------------------------------------------------------------
# 3. Import
# ---------------------------------------------------------------------------
say ""
say "== 3. import: $IMPORT_ROWS rows"
settle
if [[ $IMPORT_ROWS -gt 0 ]]; then
    python3 "$SCRIPT_DIR/make-import-csv.py" --db "$DB" --community-id "$COMMUNITY_ID" --rows "$IMPORT_ROWS" \
        --out "$WORK/import.csv" --seed "$SEED" || die "could not write the import CSV"
    say "   CSV: $WORK/import.csv ($(stat -c %s "$WORK/import.csv") bytes, UTF-8 with BOM)"
    say "   timed over HTTP, the path staff take: upload, background job, commit"
    code=$(curl -s --max-time 10 -o "$WORK/import-page.html" -w '%{http_code}' -H "Cookie: jinlin_session=$STAFF_SESSION" "$BASE/residents/import")
    if [[ $code != 200 ]]; then
        say "   /residents/import answered $code: the import page is not there yet; skipped"
    else
        csrf=$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$WORK/import-page.html" | head -1)
        before=$(sqlite3 "$DB" "SELECT coalesce(max(id), 0) FROM import_jobs")
        residents_before=$(sqlite3 "$DB" "SELECT count(*) FROM residents")
        start=$(now_ns)
        post=$(curl -s --max-time 600 -o "$WORK/import-post.html" -w '%{http_code} %{redirect_url}' \
            -H "Cookie: jinlin_session=$STAFF_SESSION" -F "_csrf=$csrf" -F "dry_run=0" -F "file=@$WORK/import.csv;type=text/csv" \
            "$BASE/residents/import")
        say "   POST /residents/import → $post"
        status=""
        deadline=$(( $(date +%s) + 1200 ))
        while [[ $(date +%s) -lt $deadline ]]; do
            status=$(sqlite3 "$DB" ".timeout 5000" "SELECT status || '|' || processed_rows || '|' || total_rows FROM import_jobs WHERE id > $before ORDER BY id DESC LIMIT 1")
            case ${status%%|*} in done|failed) break ;; esac
            sleep 0.05
        done
        import_ms=$(ms_between "$start" "$(now_ns)")
        added=$(( $(sqlite3 "$DB" "SELECT count(*) FROM residents") - residents_before ))
        IFS='|' read -r job_status processed total <<< "$status"
        say "   job: ${job_status:-none} (processed ${processed:-?} of ${total:-?} rows), residents added: $added"
        sayf "   import: %.1f s, %.0f rows/s (target ≥ 20,000 rows/s)\n" \
            "$(awk -v m="$import_ms" 'BEGIN { print m / 1000 }')" "$(awk -v m="$import_ms" -v n="$IMPORT_ROWS" 'BEGIN { print n / (m / 1000) }')"
        sqlite3 "$DB" "SELECT 'report: ' || substr(coalesce(report_json, error, ''), 1, 300) FROM import_jobs WHERE id > $before ORDER BY id DESC LIMIT 1" | tee -a "$RESULTS"
        # The job logs where its time went once it has committed (the commit lap includes the
        # WAL checkpoint that follows it, which the job's status above does not wait for).
        sleep 2
        phases=$(cat "$WORK/serve.out" "$WORK/serve.err" | grep -o 'import job [0-9]*: .*' | tail -1)
        say "   phases (server log): ${phases:-not logged}"
    fi
    say "   server memory: $(server_memory)"
fi

# ---------------------------------------------------------------------------
# 4. List page under load
# ---------------------------------------------------------------------------
say ""
say "== 4. list page: wrk -t2 -c64 -d${WRK_SECONDS}s --latency (load average now: $(loadavg))"
settle

# Prints "req/s p50_ms p99_ms non2xx".
run_wrk() {
    local path=$1 session=$2 out=$WORK/wrk-$(echo "$1" | tr -c 'a-z0-9' '_')-$3.txt
    timeout $(( WRK_SECONDS + 30 )) wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency -H "Cookie: jinlin_session=$session" "$BASE$path" > "$out" 2>&1
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$out"
}

code=$(get_timed "/residents" "$STAFF_SESSION" | cut -d' ' -f1)
if [[ $code != 200 ]]; then
    say "   /residents answered $code: the list page is not there yet; skipped"
else
    sayf "   %-44s %9s %9s %9s %8s\n" "page" "req/s" "p50" "p99" "non-2xx"
    read -r list_rps list_p50 list_p99 list_bad < <(run_wrk /residents "$STAFF_SESSION" staff)
    sayf "   %-44s %9s %7.2fms %7.2fms %8s\n" "/residents (staff, 50 rows)" "$list_rps" "$list_p50" "$list_p99" "$list_bad"
    read -r c_rps c_p50 c_p99 c_bad < <(run_wrk /residents "$COORD_SESSION" coordinator)
    sayf "   %-44s %9s %7.2fms %7.2fms %8s\n" "/residents (coordinator, 50 rows)" "$c_rps" "$c_p50" "$c_p99" "$c_bad"
    read -r floor_rps floor_p50 floor_p99 floor_bad < <(run_wrk /account/password "$STAFF_SESSION" floor)
    sayf "   %-44s %9s %7.2fms %7.2fms %8s\n" "/account/password (session + scope floor)" "$floor_rps" "$floor_p50" "$floor_p99" "$floor_bad"
    say "   target: list page ≥ 1,600 req/s"

    read -r q1 _ _ < <(label_times "$SQL_SCOPED" list "$REQUESTS" | percentiles)
    get_kept_alive /residents "$STAFF_SESSION" 201 "$WORK/timing-list.txt" | tail -n +2 > "$WORK/http-list.txt"
    read -r ts tq tr tt tn < <(tail -n +2 "$WORK/timing-list.txt" | timing_means)
    read -r lp50 _ _ < <(awk '{ print $2 * 1000 }' "$WORK/http-list.txt" | percentiles)
    say ""
    say "   where a /residents request's time goes (staff, 50 rows; Server-Timing of $tn sequential requests on one"
    say "   connection, mean ms; the server measures each phase with a monotonic clock):"
    awk -v s="$ts" -v q="$tq" -v r="$tr" -v t="$tt" -v c="$lp50" -v q1="$q1" -v rps="$list_rps" 'BEGIN {
        if (t <= 0) { print "     (no Server-Timing figures)"; exit }
        other = t - s - q - r; http = c - t
        printf "     session and scope (cookie → session, account, scope)  %7.3f ms  %4.0f%%\n", s, 100 * s / c
        printf "     query (SQL and the rows built from it)                %7.3f ms  %4.0f%%   (the same SQL in sqlite3: %.3f ms CPU)\n", q, 100 * q / c, q1
        printf "     render (template into bytes)                          %7.3f ms  %4.0f%%\n", r, 100 * r / c
        printf "     rest of the handler (routing, CSRF, headers, …)       %7.3f ms  %4.0f%%\n", other, 100 * other / c
        printf "     HTTP and the client (curl time_total p50 - handler)   %7.3f ms  %4.0f%%\n", http, 100 * http / c
        printf "     one request alone, end to end (curl p50)              %7.3f ms\n", c
        if (rps > 0) printf "     under wrk -t2 -c64: 1 / req/s = %.3f ms of machine time per request (2 cores, shared with wrk)\n", 1000 / rps
    }' | tee -a "$RESULTS"
fi
say "   server memory after load: $(server_memory)"
say ""
say "done in $SECONDS s"

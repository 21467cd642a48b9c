#!/usr/bin/env bash
# http-bench.sh: throughput, latency and memory benchmark of Jinlin's HTTP server,
# measured against two peers serving the same files on the same machine: nginx, and a
# minimal Hummingbird 2 (SwiftNIO) app, Tests/bench/peer (a package of its own, never a
# dependency of the product).
#
# This is a BENCHMARK, not a test: it prints figures and the targets next to them,
# and never fails because a figure misses a target. It exits non-zero only when it
# cannot run at all (build failure, a server that does not start, ...).
#
# Usage (from anywhere; the script finds the package root itself):
#   Tests/bench/http-bench.sh
#   DURATION=3 SKIP_BUILD=1 Tests/bench/http-bench.sh        # quick run
#   RESULTS=/tmp/bench.txt Tests/bench/http-bench.sh         # keep the results elsewhere
#
# Environment:
#   DURATION=15          seconds per wrk run in the comparison
#   ROUNDS=3             rounds per target and server (alternating jinlin, hummingbird, nginx, ...)
#   THREADS=2            wrk threads
#   CONNECTIONS=64       wrk connections
#   SKIP_BUILD=1         do not run `swift build -c release --product jinlin`, nor build the peer
#                        (`swift build -c release --package-path Tests/bench/peer`) if its binary exists
#   RESULTS=FILE         also write the report to FILE (default: bench-results.txt in the temp dir)
#   MEMCHECK_REQUESTS=1000000   requests driven at /healthz for the memory-growth check
#   MEMCHECK_MAX_SECONDS=600    stop the memory-growth check after this long even if short of the count
#   KEEP_LOGS=1          keep jinlin's and nginx's access logs (they reach hundreds of MB; deleted by default)
#
# What is compared:
#   /healthz                   a 2-byte "ok" body: measures the per-request cost of the server
#   /bench/sample-20k.html     a 20,000-byte static file (Tests/bench/sample-20k.html, copied into
#                              a serving root beside Public/ so the shipped Public/ lacks it)
# jinlin and nginx write an access log to a file, as in production. The Hummingbird peer
# writes none (Hummingbird has no buffered file access log of its own, and its logger stays
# at warning level: no per-request lines), which favours the peer slightly.
#
# Targets (printed next to the figures): /healthz >= 0.85x nginx and >= 1.2x Hummingbird
# in req/s; the 20 KB file >= 0.75x nginx; jinlin's p99 under 10 ms at 64 connections.
#
# If nginx or the peer cannot be installed, built or started, the report says so and
# compares what it has; only a jinlin that cannot run makes the script exit non-zero.
#
# Caveat: wrk runs on the same machine and competes for the same cores as the server
# under test. The figures are therefore only meaningful as ratios against the peers
# measured under the very same conditions, which is why the rounds alternate.

set -euo pipefail

# ---------------------------------------------------------------------------
# Settings and paths
# ---------------------------------------------------------------------------

DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
MEMCHECK_REQUESTS=${MEMCHECK_REQUESTS:-1000000}
MEMCHECK_MAX_SECONDS=${MEMCHECK_MAX_SECONDS:-600}
WARMUP_REQUESTS=10000

HEALTH_PATH=/healthz
STATIC_PATH=/bench/sample-20k.html
TARGETS=("$HEALTH_PATH" "$STATIC_PATH")
SERVERS=(jinlin) # the peers that start are added in 3: jinlin, hummingbird, nginx

# Package root: two levels above this script (Tests/bench/http-bench.sh).
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jinlin-bench.XXXXXX")

# Resolve RESULTS against the caller's directory before we cd to the package root.
RESULTS=${RESULTS:-$WORK/bench-results.txt}
case $RESULTS in /*) ;; *) RESULTS="$PWD/$RESULTS" ;; esac
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"

cd "$ROOT"

JINLIN_PID=""
NGINX_PID=""
PEER_PID=""
# Why a peer is missing from the comparison, if it is ("nginx: ..."); printed in the header.
MISSING=()

# ---------------------------------------------------------------------------
# Output helpers: everything the report says goes to stdout and to $RESULTS.
# ---------------------------------------------------------------------------

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
sayf() { local fmt=$1; shift; printf "$fmt" "$@" | tee -a "$RESULTS"; }
die() { say "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Cleanup: stop every server whatever happens (normal end, error, Ctrl-C).
# ---------------------------------------------------------------------------

stop_pid() { # stop_pid PID SIGNAL GRACE_SECONDS
    local pid=$1 sig=$2 grace=$3 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # Jinlin and the Hummingbird peer shut down gracefully on SIGTERM; nginx on SIGQUIT.
    # Each gets a bounded grace.
    stop_pid "$JINLIN_PID" TERM 35
    stop_pid "$PEER_PID" TERM 10
    stop_pid "$NGINX_PID" QUIT 10
    if [[ ${KEEP_LOGS:-0} != 1 ]]; then
        rm -f "$WORK/jinlin-access.log" "$WORK/nginx/logs/access.log"
    fi
    rm -rf "$WORK/jinlin-data" "$WORK/nginx/tmp"
    echo "Results written to: $RESULTS"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Tools: wrk and nginx, installed with apt-get when missing.
# ---------------------------------------------------------------------------

apt_install() { # apt_install PACKAGE
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y "$1" || { $sudo apt-get update && $sudo apt-get install -y "$1"; }
}

command -v wrk >/dev/null || apt_install wrk
command -v wrk >/dev/null || die "wrk not found after installing it"
# nginx lives in /usr/sbin, which is not on every user's PATH. Without it, the comparison
# goes on with the other servers.
NGINX=$(command -v nginx || true)
[[ -n $NGINX ]] || { [[ -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx; } || true
if [[ -z $NGINX ]]; then
    apt_install nginx-light || true
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
if [[ ! -x $NGINX ]]; then
    MISSING+=("nginx: not found after installing nginx-light")
    NGINX=""
fi
command -v timeout >/dev/null || die "coreutils 'timeout' is required"

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

# Status code of GET PATH on 127.0.0.1:PORT, using bash's /dev/tcp (no curl needed).
# Prints nothing when the connection fails. Bounded by read's 5 s timeout.
http_status() { # http_status PORT PATH
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
        IFS= read -r -t 5 line <&3 || exit 0
        line=${line%$'\r'}
        set -- $line
        echo "${2:-}"
    ) 2>/dev/null
}

# A TCP port on the loopback interface that nothing listens on right now.
free_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Field (in kB) of /proc/PID/status, e.g. VmRSS (current) or VmHWM (peak).
proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
kb_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# wrk prints durations as 1.23us / 4.56ms / 1.02s / 1.50m; convert to milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000
        else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        printf "%.3f", n }'
}

# Median of the numbers given as arguments (mean of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]
        else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Runs wrk, saving its full output to FILE. A hard timeout keeps the run bounded even
# if a server stops answering (wrk itself ends after -d, but be safe).
run_wrk() { # run_wrk FILE SECONDS URL [extra wrk args...]
    local out=$1 secs=$2 url=$3
    shift 3
    timeout --kill-after=5 $((secs + 30)) \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" "$@" "$url" > "$out" 2>&1 || true
}

# Parsers for a saved wrk output file.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
wrk_requests() { awk '/ requests in / { print $1 }' "$1"; }
wrk_pct() { # wrk_pct FILE 50|99 -> milliseconds
    local v
    v=$(awk -v p="$2%" '$1 == p { print $2; exit }' "$1")
    [[ -n $v ]] && to_ms "$v" || echo ""
}
wrk_errors() { # prints "SOCKET_ERRORS NON_2XX_3XX" (socket errors summed over their kinds)
    awk '/Socket errors:/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
         /Non-2xx or 3xx responses:/ { n += $NF }
         END { printf "%d %d\n", s, n }' "$1"
}

# ---------------------------------------------------------------------------
# 1. Build
# ---------------------------------------------------------------------------

BIN="$ROOT/.build/release/jinlin"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    echo "Building release (log: $WORK/build.log) ..."
    swift build -c release --product jinlin > "$WORK/build.log" 2>&1 \
        || { tail -n 30 "$WORK/build.log"; die "swift build failed"; }
fi
[[ -x $BIN ]] || die "$BIN not found (build it, or unset SKIP_BUILD)"

# The Hummingbird peer: its own package, its own .build (ignored by git, like its Package.resolved).
PEER_PACKAGE="$ROOT/Tests/bench/peer"
PEER_BIN="$PEER_PACKAGE/.build/release/bench-peer"
if [[ ${SKIP_BUILD:-0} != 1 || ! -x $PEER_BIN ]]; then
    echo "Building the Hummingbird peer (log: $WORK/peer-build.log) ..."
    if ! swift build -c release --package-path "$PEER_PACKAGE" > "$WORK/peer-build.log" 2>&1; then
        tail -n 30 "$WORK/peer-build.log"
        MISSING+=("hummingbird: swift build of Tests/bench/peer failed (see $WORK/peer-build.log)")
        PEER_BIN=""
    fi
fi
[[ -z $PEER_BIN || -x $PEER_BIN ]] || { MISSING+=("hummingbird: $PEER_BIN not found"); PEER_BIN=""; }

# Every server serves a copy of Public/ with the sample added; templates and migrations are
# linked.
SERVE_ROOT="$WORK/root"
mkdir -p "$SERVE_ROOT"
cp -R "$ROOT/Public" "$SERVE_ROOT/Public"
ln -s "$ROOT/Templates" "$SERVE_ROOT/Templates"
ln -s "$ROOT/Migrations" "$SERVE_ROOT/Migrations"
mkdir -p "$SERVE_ROOT/Public/bench"
cp "$ROOT/Tests/bench/sample-20k.html" "$SERVE_ROOT/Public$STATIC_PATH"
[[ -f $SERVE_ROOT/Public$STATIC_PATH ]] || die "missing Public$STATIC_PATH"

# ---------------------------------------------------------------------------
# 2. Start jinlin with production settings: access log on, to a file.
#    --port 0 lets the kernel pick a free port; the ready line tells which one.
# ---------------------------------------------------------------------------

# A production server starts on an existing database. Creating the first administrator hashes a
# password with yescrypt, which takes 64 MiB for a moment; do that beforehand, in its own process,
# so the peak RSS below is what serving costs. (Every sign-in costs the same 64 MiB briefly.)
"$BIN" migrate --data-dir "$WORK/jinlin-data" --root "$SERVE_ROOT" > "$WORK/jinlin-migrate.out" 2>&1 \
    || { cat "$WORK/jinlin-migrate.out"; die "jinlin migrate failed"; }
"$BIN" create-user --username bench-admin --display-name 基准测试 --role admin --password bench-password-1 \
    --data-dir "$WORK/jinlin-data" --root "$SERVE_ROOT" > "$WORK/jinlin-user.out" 2>&1 \
    || { cat "$WORK/jinlin-user.out"; die "jinlin create-user failed"; }

"$BIN" serve --host 127.0.0.1 --port 0 \
    --access-log "$WORK/jinlin-access.log" \
    --data-dir "$WORK/jinlin-data" --root "$SERVE_ROOT" \
    > "$WORK/jinlin.out" 2> "$WORK/jinlin.err" &
JINLIN_PID=$!

JINLIN_PORT=""
for ((i = 0; i < 600; i++)); do # up to 60 s
    kill -0 "$JINLIN_PID" 2>/dev/null || { cat "$WORK/jinlin.err"; die "jinlin exited during startup"; }
    JINLIN_PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$WORK/jinlin.out" | head -n 1)
    [[ -n $JINLIN_PORT && $(http_status "$JINLIN_PORT" "$HEALTH_PATH") == 200 ]] && break
    sleep 0.1
done
[[ -n $JINLIN_PORT && $(http_status "$JINLIN_PORT" "$HEALTH_PATH") == 200 ]] \
    || die "jinlin did not answer $HEALTH_PATH within 60 s"

# ---------------------------------------------------------------------------
# 3. Configure and start nginx on another free loopback port, same Public/ directory;
#    then the Hummingbird peer on a third one. Either may be missing: the comparison goes
#    on with the servers that answer.
# ---------------------------------------------------------------------------

mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"

# Debian builds nginx with temp paths under /var/lib/nginx; point every temp path that
# this build has into the temp dir so nginx also starts without root. A module built
# --without-… rejects its directive, so only name the ones that exist.
NGINX_V=""
[[ -z $NGINX ]] || NGINX_V=$("$NGINX" -V 2>&1 || true)
TEMP_PATHS="client_body_temp_path $WORK/nginx/tmp/body;"
for m in proxy fastcgi uwsgi scgi; do
    [[ $NGINX_V == *"--without-http_${m}_module"* ]] || TEMP_PATHS+=$'\n'"    ${m}_temp_path $WORK/nginx/tmp/$m;"
done

# As root, nginx would switch its workers to "nobody", who may not be able to read the
# worktree; keep root. Without root the directive would be ignored with a warning: omit it.
USER_DIRECTIVE=""
[[ $(id -u) -eq 0 ]] && USER_DIRECTIVE="user root;"

write_nginx_conf() { # write_nginx_conf PORT
    cat > "$WORK/nginx/nginx.conf" <<EOF
# Generated by Tests/bench/http-bench.sh.
$USER_DIRECTIVE
# worker_processes auto = one worker per core ($(nproc) on this machine). Jinlin is not confined to one
# core either: it runs max(2, cores) Dispatch event loops, so it uses every core. One
# nginx worker would handicap nginx and flatter jinlin; "auto" is also what nginx
# recommends and what Debian ships.
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;

events {
    worker_connections 1024;
}

http {
    # Same access-log cost as jinlin, whose LogFile buffers lines and writes them in
    # 64 KiB chunks or every 200 ms. access_log off would not be a fair comparison.
    log_format bench '\$remote_addr - [\$time_local] "\$request" \$status \$body_bytes_sent \$request_time';
    access_log $WORK/nginx/logs/access.log bench buffer=64k flush=200ms;

    # The settings of a typical production nginx (Debian's default nginx.conf).
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 60s;      # jinlin's idleTimeout
    keepalive_requests 1000000; # jinlin does not cap requests per connection; neither do we
    server_tokens off;
    gzip off;                   # wrk sends no Accept-Encoding, so jinlin does not compress either

    types {
        text/html html;
        text/css css;
        application/javascript js;
    }
    default_type application/octet-stream;
    charset utf-8;

    $TEMP_PATHS

    server {
        listen 127.0.0.1:$1;
        root $SERVE_ROOT/Public;

        # Same 2-byte body as jinlin's /healthz.
        location = /healthz {
            default_type text/plain;
            return 200 "ok";
        }
    }
}
EOF
}

# Starts nginx on a free port: sets NGINX_PID and NGINX_PORT, or NGINX_WHY and returns 1.
NGINX_WHY=""
start_nginx() {
    local attempt port i
    for attempt in 1 2 3 4 5; do
        port=$(free_port) || { NGINX_WHY="no free port found"; return 1; }
        write_nginx_conf "$port"
        : > "$WORK/nginx/logs/error.log"
        "$NGINX" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" \
            > "$WORK/nginx/stdout.log" 2>&1 &
        NGINX_PID=$!
        for ((i = 0; i < 100; i++)); do # up to 10 s
            kill -0 "$NGINX_PID" 2>/dev/null || break
            [[ $(http_status "$port" "$HEALTH_PATH") == 200 ]] && { NGINX_PORT=$port; return 0; }
            sleep 0.1
        done
        stop_pid "$NGINX_PID" QUIT 5
        NGINX_PID=""
        # A port taken between free_port and bind: try another one. Anything else: give up.
        grep -q "Address already in use" "$WORK/nginx/logs/error.log" "$WORK/nginx/stdout.log" 2>/dev/null \
            || { cat "$WORK/nginx/logs/error.log" "$WORK/nginx/stdout.log"; NGINX_WHY="failed to start"; return 1; }
    done
    NGINX_WHY="failed to start (ports in use)"
    return 1
}

NGINX_PORT=""
if [[ -n $NGINX ]]; then
    start_nginx || MISSING+=("nginx: $NGINX_WHY (see $WORK/nginx/logs/error.log)")
fi

# The Hummingbird peer: same Public/ copy, quiet logging, --port 0 and its ready line as for jinlin.
PEER_PORT=""
if [[ -n $PEER_BIN ]]; then
    "$PEER_BIN" --host 127.0.0.1 --port 0 --root "$SERVE_ROOT/Public" \
        > "$WORK/peer.out" 2> "$WORK/peer.err" &
    PEER_PID=$!
    for ((i = 0; i < 300; i++)); do # up to 30 s
        kill -0 "$PEER_PID" 2>/dev/null || break
        p=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$WORK/peer.out" | head -n 1)
        [[ -n $p && $(http_status "$p" "$HEALTH_PATH") == 200 ]] && { PEER_PORT=$p; break; }
        sleep 0.1
    done
    if [[ -z $PEER_PORT ]]; then
        tail -n 20 "$WORK/peer.err"
        stop_pid "$PEER_PID" TERM 5
        PEER_PID=""
        MISSING+=("hummingbird: did not answer $HEALTH_PATH within 30 s (see $WORK/peer.err)")
    fi
fi

[[ -z $PEER_PORT ]] || SERVERS+=(hummingbird)
[[ -z $NGINX_PORT ]] || SERVERS+=(nginx)
declare -A PORT=([jinlin]=$JINLIN_PORT [hummingbird]=$PEER_PORT [nginx]=$NGINX_PORT)

# ---------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------

say "=== Jinlin HTTP benchmark ==="
say "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "commit:      $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo '?'))"
say "machine:     $(nproc) cores, $(uname -sr)"
# Hummingbird's version as resolved for the peer (its Package.resolved, which git ignores).
HB_VERSION=$(awk '/"identity" *: *"hummingbird"/ { f = 1 } f && /"version"/ { gsub(/[",]/, "", $3); print $3; exit }' \
    "$PEER_PACKAGE/Package.resolved" 2>/dev/null || true)
tools=$(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}' || true) # wrk -v exits 1
[[ -z $NGINX_PORT ]] || tools+=", $("$NGINX" -v 2>&1 | sed 's/^nginx version: //' || true)"
[[ -z $PEER_PORT ]] || tools+=", hummingbird/${HB_VERSION:-?} (Tests/bench/peer, release build)"
say "tools:       $tools"
say "load:        wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS rounds per target, alternating $(IFS=/; echo "${SERVERS[*]}")"
say "servers:     jinlin pid $JINLIN_PID on :$JINLIN_PORT (access log to a file)"
[[ -z $PEER_PORT ]] || say "             hummingbird pid $PEER_PID on :$PEER_PORT (no access log, logger at warning level)"
[[ -z $NGINX_PORT ]] || say "             nginx pid $NGINX_PID on :$NGINX_PORT (access log to a file)"
for m in ${MISSING[@]+"${MISSING[@]}"}; do
    say "missing:     $m; compared without it"
done
say "note:        wrk shares the machine's cores with the servers; compare ratios, not absolute numbers"

# Is static serving available in this build of jinlin? (It may not be merged yet.)
declare -A SKIP=()
for s in "${SERVERS[@]}"; do
    st=$(http_status "${PORT[$s]}" "$STATIC_PATH")
    if [[ $st != 200 ]]; then
        SKIP[$STATIC_PATH,$s]="HTTP ${st:-no answer}"
        say "note:        $s answers ${st:-nothing} for $STATIC_PATH: its static rounds are skipped"
    fi
done
say ""

# ---------------------------------------------------------------------------
# 4. Comparison: A B C A B C ... per target (jinlin, hummingbird, nginx; those that run).
# ---------------------------------------------------------------------------

# Per target and server: space-separated per-round values.
declare -A RPS=() P50=() P99=()
# Per target and server: socket errors and non-2xx/3xx responses summed over the rounds.
declare -A SOCKERR=() NON2XX=()

est=$(( ${#TARGETS[@]} * ${#SERVERS[@]} * ROUNDS * (DURATION + 1) ))
echo "Comparison: about ${est}s ..."
for target in "${TARGETS[@]}"; do
    for ((r = 1; r <= ROUNDS; r++)); do
        for s in "${SERVERS[@]}"; do
            key="$target,$s"
            [[ -n ${SKIP[$key]:-} ]] && continue
            out="$WORK/wrk-$s-$(basename "$target")-$r.txt"
            run_wrk "$out" "$DURATION" "http://127.0.0.1:${PORT[$s]}$target" --latency
            rps=$(wrk_rps "$out"); p50=$(wrk_pct "$out" 50); p99=$(wrk_pct "$out" 99)
            if [[ -z $rps || -z $p50 || -z $p99 ]]; then
                echo "  warning: could not parse wrk output for $s $target round $r:"; sed 's/^/    /' "$out"
                continue
            fi
            RPS[$key]+="$rps "; P50[$key]+="$p50 "; P99[$key]+="$p99 "
            read -r se nx < <(wrk_errors "$out")
            SOCKERR[$key]=$(( ${SOCKERR[$key]:-0} + se )); NON2XX[$key]=$(( ${NON2XX[$key]:-0} + nx ))
            printf '  %-24s %-11s round %d: %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms\n' \
                "$target" "$s" "$r" "$rps" "$p50" "$p99"
            sleep 1 # let sockets in TIME_WAIT and log buffers settle between runs
        done
    done
done

# Peak RSS of jinlin over the whole comparison (kernel high-water mark).
HWM_COMPARISON=$(proc_kb "$JINLIN_PID" VmHWM)
RSS_COMPARISON=$(proc_kb "$JINLIN_PID" VmRSS)

# ---------------------------------------------------------------------------
# 5. Report table
# ---------------------------------------------------------------------------

# meets_min / meets_max VALUE TARGET: "meets", or "BELOW" / "ABOVE"; informational only.
meets_min() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "meets" : "BELOW" }'; }
meets_max() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "meets" : "ABOVE" }'; }
# min_ratio TARGET PEER: the lowest jinlin/PEER req/s ratio aimed at, or nothing where none is set.
min_ratio() {
    case "$1,$2" in
        "$HEALTH_PATH,nginx") echo 0.85 ;;
        "$HEALTH_PATH,hummingbird") echo 1.2 ;;
        "$STATIC_PATH,nginx") echo 0.75 ;;
    esac
}
# ratio_of TARGET PEER: jinlin's median req/s over PEER's, or nothing if a side has no figure.
ratio_of() {
    [[ -n ${RPS[$1,jinlin]:-} && -n ${RPS[$1,$2]:-} ]] || return 0
    local jm pm
    # shellcheck disable=SC2086
    jm=$(median ${RPS[$1,jinlin]}); pm=$(median ${RPS[$1,$2]})
    awk -v a="$jm" -v b="$pm" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}
PEERS=(hummingbird nginx)

say ""
say "=== Results (each round and the median of $ROUNDS; req/s higher is better, latency in ms) ==="
for target in "${TARGETS[@]}"; do
    say ""
    say "--- $target ---"
    header=$(printf '%-11s %-7s' server metric)
    for ((r = 1; r <= ROUNDS; r++)); do header+=$(printf ' %11s' "round $r"); done
    header+=$(printf ' %11s' median)
    say "$header"
    for s in "${SERVERS[@]}"; do
        key="$target,$s"
        if [[ -n ${SKIP[$key]:-} ]]; then
            sayf '%-11s skipped (%s)\n' "$s" "${SKIP[$key]}"
            continue
        fi
        for metric in req/s p50 p99; do
            case $metric in
                req/s) vals=${RPS[$key]:-} ;;
                p50) vals=${P50[$key]:-} ;;
                p99) vals=${P99[$key]:-} ;;
            esac
            line=$(printf '%-11s %-7s' "$s" "$metric")
            for v in $vals; do
                [[ $metric == req/s ]] && line+=$(printf ' %11.0f' "$v") || line+=$(printf ' %11.3f' "$v")
            done
            # shellcheck disable=SC2086
            m=$(median $vals)
            if [[ $m == n/a ]]; then line+=$(printf ' %11s' n/a)
            elif [[ $metric == req/s ]]; then line+=$(printf ' %11.0f' "$m")
            else line+=$(printf ' %11.3f' "$m"); fi
            say "$line"
        done
        say "$(printf '%-11s %-7s' "$s" errors) ${SOCKERR[$key]:-0} socket errors, ${NON2XX[$key]:-0} non-2xx/3xx responses (all rounds)"
    done

    # Targets (informational; never fails the run).
    for peer in "${PEERS[@]}"; do
        label=$(printf 'ratio jinlin/%s req/s:' "$peer")
        ratio=$(ratio_of "$target" "$peer")
        want=$(min_ratio "$target" "$peer")
        if [[ -z $ratio ]]; then
            say "$(printf '%-32s' "$label") n/a (not run, skipped or failed)"
        elif [[ -n $want ]]; then
            say "$(printf '%-32s' "$label") ${ratio}x   (target >= ${want}x: $(meets_min "$ratio" "$want"))"
        else
            say "$(printf '%-32s' "$label") ${ratio}x   (no target)"
        fi
    done
    # shellcheck disable=SC2086
    if [[ -n ${P99[$target,jinlin]:-} ]]; then
        jp99=$(median ${P99[$target,jinlin]})
        say "$(printf '%-32s' 'jinlin p99 (median):') ${jp99} ms   (target < 10 ms at $CONNECTIONS connections: $(meets_max "$jp99" 10))"
    fi
done

# Summary: the medians side by side, and jinlin's ratio to each server.
say ""
say "=== Summary (medians of $ROUNDS rounds; ratio = jinlin req/s / server req/s) ==="
say "$(printf '%-24s %-11s %10s %9s %9s %13s' target server req/s 'p50 ms' 'p99 ms' jinlin/server)"
for target in "${TARGETS[@]}"; do
    for s in "${SERVERS[@]}"; do
        key="$target,$s"
        if [[ -z ${RPS[$key]:-} ]]; then
            say "$(printf '%-24s %-11s %10s' "$target" "$s" "${SKIP[$key]:-no figures}")"
            continue
        fi
        # shellcheck disable=SC2086
        line=$(printf '%-24s %-11s %10.0f %9.3f %9.3f' "$target" "$s" \
            "$(median ${RPS[$key]})" "$(median ${P50[$key]})" "$(median ${P99[$key]})")
        if [[ $s != jinlin ]]; then
            ratio=$(ratio_of "$target" "$s")
            want=$(min_ratio "$target" "$s")
            line+=$(printf ' %12sx' "${ratio:-n/a}")
            [[ -z $ratio || -z $want ]] || line+="  (target >= ${want}x: $(meets_min "$ratio" "$want"))"
        fi
        say "$line"
    done
done

say ""
say "=== Memory (jinlin) ==="
say "peak RSS (VmHWM) after the comparison:   $(kb_to_mib "$HWM_COMPARISON") MiB"
say "current RSS (VmRSS) after the comparison: $(kb_to_mib "$RSS_COMPARISON") MiB"

# ---------------------------------------------------------------------------
# 7. Memory-growth check: RSS after a 10,000-request warm-up, then after driving
#    MEMCHECK_REQUESTS more requests at /healthz in 5-second wrk runs.
# ---------------------------------------------------------------------------

HEALTH_URL="http://127.0.0.1:$JINLIN_PORT$HEALTH_PATH"

drive() { # drive COUNT CHUNK_SECONDS DEADLINE_EPOCH -> prints requests actually sent
    local want=$1 chunk=$2 deadline=$3 sent=0 n
    while ((sent < want)) && (($(date +%s) < deadline)); do
        kill -0 "$JINLIN_PID" 2>/dev/null || break
        run_wrk "$WORK/wrk-mem.txt" "$chunk" "$HEALTH_URL"
        n=$(wrk_requests "$WORK/wrk-mem.txt")
        [[ -n $n && $n -gt 0 ]] || break # server stopped answering: do not spin
        sent=$((sent + n))
    done
    echo "$sent"
}

echo "Memory-growth check: warm-up of $WARMUP_REQUESTS requests, then $MEMCHECK_REQUESTS requests ..."
deadline=$(($(date +%s) + MEMCHECK_MAX_SECONDS))
warm=$(drive "$WARMUP_REQUESTS" 1 "$deadline")
sleep 1
RSS_BEFORE=$(proc_kb "$JINLIN_PID" VmRSS)
start=$(date +%s)
sent=$(drive "$MEMCHECK_REQUESTS" 5 "$deadline")
elapsed=$(($(date +%s) - start))
sleep 1
if kill -0 "$JINLIN_PID" 2>/dev/null; then
    RSS_AFTER=$(proc_kb "$JINLIN_PID" VmRSS)
    HWM_FINAL=$(proc_kb "$JINLIN_PID" VmHWM)
    growth=$(awk -v a="$RSS_AFTER" -v b="$RSS_BEFORE" 'BEGIN { printf "%+.1f", (a - b) * 100 / b }')
    say "warm-up:                                  $warm requests (at least $WARMUP_REQUESTS, in 1 s wrk runs)"
    say "RSS after warm-up (VmRSS):                $(kb_to_mib "$RSS_BEFORE") MiB"
    say "requests driven at $HEALTH_PATH:              $sent in ${elapsed}s"
    ((sent >= MEMCHECK_REQUESTS)) || say "note: stopped short of $MEMCHECK_REQUESTS (time limit MEMCHECK_MAX_SECONDS=$MEMCHECK_MAX_SECONDS)"
    say "RSS after (VmRSS):                        $(kb_to_mib "$RSS_AFTER") MiB"
    say "RSS growth:                               ${growth}%   (target within 10 %: $(awk -v g="$growth" 'BEGIN { print (g <= 10 && g >= -10) ? "meets" : "OUTSIDE" }'))"
    say "peak RSS (VmHWM) over the whole run:      $(kb_to_mib "$HWM_FINAL") MiB"
else
    say "jinlin is no longer running: memory-growth check aborted (see $WORK/jinlin.err)"
fi

# ---------------------------------------------------------------------------
# Sanity: jinlin and nginx logged every request (after their 200 ms flush).
# ---------------------------------------------------------------------------
sleep 0.5
say ""
if [[ -n $NGINX_PORT ]]; then
    say "access log lines: jinlin $(wc -l < "$WORK/jinlin-access.log"), nginx $(wc -l < "$WORK/nginx/logs/access.log") (the Hummingbird peer keeps none)"
else
    say "access log lines: jinlin $(wc -l < "$WORK/jinlin-access.log")"
fi
say "work dir: $WORK (wrk outputs, server logs$([[ ${KEEP_LOGS:-0} == 1 ]] && echo ', access logs'))"

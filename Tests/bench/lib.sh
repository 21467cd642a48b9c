# Shared by the benchmark scripts (sourced, not run).

# start_jinlin BIN DATA [NAME=value ...]: runs `BIN serve --port 0` on the data directory DATA in
# the background (with the given environment), sets PID and PORT once it listens, and stops it
# when the calling script exits. The Python parts import `benchclient` (PYTHONPATH is set here).
start_jinlin() {
    local bin=$1 data=$2
    shift 2
    env "$@" "$bin" serve --port 0 --data-dir "$data" --access-log off > "$data/server.out" 2> "$data/server.err" &
    PID=$!
    trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
    PORT=
    for _ in $(seq 100); do
        PORT=$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/.*#\1#p' "$data/server.out" | head -n 1)
        [[ -n "$PORT" ]] && break
        sleep 0.2
    done
    [[ -n "$PORT" ]] || { echo "the server did not start: $(tail -n 3 "$data/server.err")"; exit 1; }
}

# seed_county BIN DATA RESIDENTS: seeds DATA with a county of RESIDENTS residents unless it was
# seeded before (DATA/admin-password exists), printing how long it took, and keeps the first-run
# admin's password in DATA/admin-password (benchclient.sign_in_admin reads and updates it).
seed_county() {
    local bin=$1 data=$2 residents=$3 start
    mkdir -p "$data"
    [[ -f "$data/admin-password" ]] && return 0
    start=$(date +%s.%N)
    "$bin" seed --seed 1 --communities 3 --residents "$residents" --data-dir "$data" > "$data/seed.log" 2>&1
    echo "seed: $(echo "$(date +%s.%N) - $start" | bc) s"
    sed -n 's/.*新建，密码 \([^（]*\)（.*/\1/p' "$data/seed.log" | head -n 1 > "$data/admin-password"
}

export PYTHONPATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"

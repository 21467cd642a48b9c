#!/usr/bin/env bash
# gram-trigger-cost.sh: what the name-gram trigger (residents_grams_insert) costs when
# residents are inserted in bulk, and the raw-SQLite floor for the seed's residents rows.
#
# A benchmark: prints figures, asserts nothing. Usage:
#   Tests/bench/gram-trigger-cost.sh /path/to/seeded/jinlin.sqlite
#
# It copies the schema of the seeded file into two scratch databases, drops the trigger in one,
# and times `INSERT INTO residents SELECT * FROM src.residents` (one transaction, foreign keys
# on, a 256 MiB page cache, the same settings the seed uses) in each, with the sqlite3 shell's
# timer (real and CPU seconds). The difference is the trigger's cost; the run with the trigger
# is what the seed's residents phase cannot beat.
set -uo pipefail

SRC=${1:?usage: gram-trigger-cost.sh SEEDED.sqlite}
[[ -f $SRC ]] || { echo "no such file: $SRC" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jinlin-gram-cost.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

sqlite3 "$SRC" .schema | grep -v '^CREATE TABLE sqlite_sequence' > "$WORK/schema.sql"
residents=$(sqlite3 "$SRC" "SELECT count(*) FROM residents")
echo "residents in $SRC: $residents"
printf '%-16s %10s %10s %10s %12s\n' "variant" "real s" "user s" "sys s" "grams"
for variant in with-trigger without-trigger; do
    db=$WORK/$variant.sqlite
    sqlite3 "$db" < "$WORK/schema.sql"
    [[ $variant == without-trigger ]] && sqlite3 "$db" "DROP TRIGGER residents_grams_insert"
    out=$(printf '%s\n' \
        "PRAGMA journal_mode = WAL;" "PRAGMA foreign_keys = ON;" "PRAGMA cache_size = -262144;" "PRAGMA temp_store = MEMORY;" \
        "ATTACH '$SRC' AS src;" \
        "INSERT INTO name_positions SELECT * FROM src.name_positions;" \
        "INSERT INTO grids SELECT * FROM src.grids;" \
        ".timer on" "BEGIN;" "INSERT INTO residents SELECT * FROM src.residents ORDER BY id;" ".timer off" "COMMIT;" \
        | sqlite3 "$db" | awk '/^Run Time/ { print $4, $6, $8 }' | tail -1)
    grams=$(sqlite3 "$db" "SELECT count(*) FROM resident_name_grams")
    read -r real user sys <<< "$out"
    printf '%-16s %10s %10s %10s %12s\n' "$variant" "$real" "$user" "$sys" "$grams"
    rm -f "$db" "$db-wal" "$db-shm"
done
echo "(the seed itself prints its residents phase as wall time and the writing thread's CPU time)"

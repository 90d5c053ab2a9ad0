#!/usr/bin/env bash
# The services the test suite talks to, on 127.0.0.1 only, no systemd needed:
#   PostgreSQL 15  port 54329, throwaway cluster in /tmp/pulse-test-pg, database pulse_test,
#                  user pulse / password pulse, max_connections 250
#   moto_server    port 5055, plain (checks no signature)
#   moto_server    port 5056, INITIAL_NO_AUTH_ACTION_COUNT=0 (checks header-signed SigV4)
#
#   scripts/test-services.sh start    start what is not running yet, wait until each answers
#   scripts/test-services.sh env      print the `export` lines the tests read (eval "$(... env)")
#   scripts/test-services.sh status   say what is running
#   scripts/test-services.sh stop     stop all three and delete the throwaway cluster
#
# Logs: /tmp/pulse-test-postgres.log, /tmp/pulse-test-moto-5055.log, /tmp/pulse-test-moto-5056.log.
# Shared use: with PULSE_TEST_SERVICES_HOLDER=<pid> (scripts/test.sh sets it), `start` registers that
# process and `stop` only stops the services once no other registered process is still alive, so two
# test runs on one machine do not pull the services from under each other.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PG_PORT=54329
PG_BASE=/tmp/pulse-test-pg
PG_DATA=$PG_BASE/data
PG_SOCK=$PG_BASE/run
PG_LOG=/tmp/pulse-test-postgres.log
PG_DB=pulse_test
PG_USER=pulse
PG_PASSWORD=pulse
PG_MAX_CONNECTIONS=250
MOTO_PORT=5055
MOTO_AUTH_PORT=5056
HOLDERS=/tmp/pulse-test-services.holders
WAIT_SECONDS=${PULSE_TEST_SERVICES_WAIT:-60}

say() { printf '[test-services] %s\n' "$*"; }
die() {
    printf '[test-services] ERROR: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# The media folder is scripts/gen-test-media.sh's default output: the generated cases and the real
# footage it fetches, all inside the clone (nothing outside it is read).
print_env() {
    local media
    media=$ROOT/TestMedia
    printf 'export PULSE_TEST_POSTGRES_URL=%q\n' "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
    printf 'export PULSE_TEST_S3_ENDPOINT=%q\n' "http://127.0.0.1:$MOTO_PORT"
    printf 'export PULSE_TEST_S3_AUTH_ENDPOINT=%q\n' "http://127.0.0.1:$MOTO_AUTH_PORT"
    printf 'export PULSE_TEST_MEDIA_DIR=%q\n' "$media"
}

# ------------------------------------------------------------------------------------ helpers
# Exit 0 when something answers HTTP at the URL (any status, 4xx/5xx included).
http_answers() {
    python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass
PY
}

port_in_use() { # PORT: something accepts TCP connections on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

lock() {
    if command -v flock >/dev/null 2>&1; then
        exec 8>/tmp/pulse-test-services.lock
        flock -w 300 8 || die "could not take /tmp/pulse-test-services.lock within 300 s"
    fi
}

# ------------------------------------------------------------------------------------ PostgreSQL
pg_bin() {
    local d
    if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
        echo /usr/lib/postgresql/15/bin
        return
    fi
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$d/postgres" ]; then
            echo "$d"
            return
        fi
    done
    die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: run scripts/setup.sh --test"
}

# The server refuses to run as root: as root, run it as the `postgres` system user (created if the
# machine has the binaries but not the user).
PG_AS=()
pg_user_setup() {
    if [ "$(id -u)" -ne 0 ]; then
        PG_AS=()
        PG_OWNER=$(id -un)
        return
    fi
    PG_OWNER=postgres
    if ! id -u "$PG_OWNER" >/dev/null 2>&1; then
        say "creating system user $PG_OWNER"
        useradd --system --user-group --no-create-home --home-dir "$PG_BASE" \
            --shell /usr/sbin/nologin "$PG_OWNER" || die "could not create user $PG_OWNER"
    fi
    command -v runuser >/dev/null 2>&1 || die "runuser (util-linux) not found: cannot run postgres as $PG_OWNER"
    PG_AS=(runuser -u "$PG_OWNER" --)
}

pg_running() {
    [ -f "$PG_DATA/postmaster.pid" ] &&
        (cd / && "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1)
}

pg_psql() { # superuser psql over the cluster's own socket
    (cd / && "${PG_AS[@]}" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" \
        -U postgres -d postgres "$@")
}

pg_start() {
    PGBIN=$(pg_bin)
    pg_user_setup
    if pg_running; then
        say "postgres already running on 127.0.0.1:$PG_PORT"
    else
        if [ ! -f "$PG_DATA/PG_VERSION" ]; then
            # A fresh cluster (or one a crash left half-made).
            rm -rf "$PG_BASE"
            mkdir -p "$PG_DATA" "$PG_SOCK"
            chown -R "$PG_OWNER" "$PG_BASE"
            chmod 700 "$PG_DATA"
            local out
            if ! out=$(cd / && "${PG_AS[@]}" "$PGBIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
                --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions 2>&1); then
                printf '%s\n' "$out" >&2
                die "initdb failed"
            fi
            cat >>"$PG_DATA/postgresql.conf" <<EOF

# pulse-video test cluster (scripts/test-services.sh): throwaway, speed over durability
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = $PG_MAX_CONNECTIONS
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        fi
        mkdir -p "$PG_SOCK"
        chown "$PG_OWNER" "$PG_SOCK"
        if port_in_use "$PG_PORT"; then
            die "port $PG_PORT is taken by another process (not this script's cluster)"
        fi
        : >"$PG_LOG"
        chown "$PG_OWNER" "$PG_LOG"
        # 8>&-: the server must not inherit (and so hold forever) this script's lock.
        if ! (cd / && "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_SECONDS" \
            start >/dev/null 2>&1 8>&-); then
            echo "----- $PG_LOG -----" >&2
            tail -n 30 "$PG_LOG" >&2
            die "postgres did not start within $WAIT_SECONDS s"
        fi
        say "postgres started on 127.0.0.1:$PG_PORT (data $PG_DATA, log $PG_LOG)"
    fi
    # Role and database, created when missing (also after a start that found it running).
    pg_psql -c "DO \$\$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
                CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
            END IF;
        END \$\$;" >/dev/null || die "could not create role $PG_USER"
    if [ -z "$(pg_psql -At -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
        pg_psql -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >/dev/null || die "could not create $PG_DB"
    fi
    # And it answers over TCP with the password, as the tests connect.
    local i
    for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
        if PGPASSWORD=$PG_PASSWORD "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" \
            -d "$PG_DB" -c 'select 1' >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    die "postgres does not accept $PG_USER@127.0.0.1:$PG_PORT/$PG_DB (see $PG_LOG)"
}

pg_stop() {
    PGBIN=$(pg_bin)
    pg_user_setup
    if pg_running; then
        if ! (cd / && "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1); then
            (cd / && "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1) ||
                die "could not stop postgres (data $PG_DATA)"
        fi
        say "postgres stopped"
    fi
    rm -rf "$PG_BASE"
}

# ------------------------------------------------------------------------------------ moto_server
moto_pidfile() { echo "/tmp/pulse-test-moto-$1.pid"; }

# PID of our moto_server on PORT, if it is alive (and really is that process).
moto_pid() {
    local f pid
    f=$(moto_pidfile "$1")
    [ -f "$f" ] || return 1
    pid=$(cat "$f")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "moto.server -H 127.0.0.1 -p $1" || return 1
    echo "$pid"
}

moto_start() { # PORT AUTH(0|1)
    local port=$1 auth=$2 log=/tmp/pulse-test-moto-$1.log pid i
    local mode=plain
    [ "$auth" -eq 1 ] && mode="signature-checking"
    if pid=$(moto_pid "$port") && http_answers "http://127.0.0.1:$port/"; then
        say "moto_server ($mode) already running on 127.0.0.1:$port (pid $pid)"
        return 0
    fi
    if port_in_use "$port"; then
        die "port $port is taken by another process (not this script's moto_server)"
    fi
    python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null ||
        die "moto[server] is not installed for python3: run scripts/setup.sh --test"
    local envs=()
    [ "$auth" -eq 1 ] && envs=(INITIAL_NO_AUTH_ACTION_COUNT=0)
    # `python3 -m moto.server` is what the moto_server console script runs; called this way it needs
    # no PATH shim and $! is the server itself. setsid: a Ctrl-C of the caller does not reach it, the
    # caller's `stop` does. 8>&-: it must not inherit (and so hold forever) this script's lock.
    env "${envs[@]}" setsid python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null 8>&- &
    pid=$!
    echo "$pid" >"$(moto_pidfile "$port")"
    for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
        if http_answers "http://127.0.0.1:$port/"; then
            say "moto_server ($mode) started on 127.0.0.1:$port (pid $pid, log $log)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "----- $log -----" >&2
            tail -n 30 "$log" >&2
            die "moto_server on port $port exited during start-up"
        fi
        sleep 0.25
    done
    kill "$pid" 2>/dev/null || true
    die "moto_server on port $port did not answer within $WAIT_SECONDS s (see $log)"
}

moto_stop() { # PORT
    local port=$1 pid i
    if pid=$(moto_pid "$port"); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        say "moto_server on port $port stopped"
    fi
    rm -f "$(moto_pidfile "$port")"
}

# ------------------------------------------------------------------------------------ holders
register_holder() {
    [ -n "${PULSE_TEST_SERVICES_HOLDER:-}" ] || return 0
    mkdir -p "$HOLDERS"
    : >"$HOLDERS/$PULSE_TEST_SERVICES_HOLDER"
}

# Exit 0 (and name them) when processes other than this holder still use the services.
other_holders_alive() {
    [ -d "$HOLDERS" ] || return 1
    local f pid alive=()
    for f in "$HOLDERS"/*; do
        [ -e "$f" ] || continue
        pid=${f##*/}
        if [ "$pid" = "${PULSE_TEST_SERVICES_HOLDER:-}" ] || ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$f"
            continue
        fi
        alive+=("$pid")
    done
    [ "${#alive[@]}" -gt 0 ] || return 1
    say "still in use by pid ${alive[*]}: leaving the services running"
}

# ------------------------------------------------------------------------------------ commands
cmd=${1:-}
case "$cmd" in
    start)
        command -v python3 >/dev/null 2>&1 || die "python3 not found"
        lock
        pg_start
        moto_start "$MOTO_PORT" 0
        moto_start "$MOTO_AUTH_PORT" 1
        register_holder
        ;;
    stop)
        lock
        if [ -n "${PULSE_TEST_SERVICES_HOLDER:-}" ] && other_holders_alive; then
            exit 0
        fi
        moto_stop "$MOTO_PORT"
        moto_stop "$MOTO_AUTH_PORT"
        pg_stop
        rm -rf "$HOLDERS"
        ;;
    env)
        print_env
        ;;
    status)
        PGBIN=$(pg_bin)
        pg_user_setup
        if pg_running; then say "postgres: running on 127.0.0.1:$PG_PORT"; else say "postgres: stopped"; fi
        for p in "$MOTO_PORT" "$MOTO_AUTH_PORT"; do
            if pid=$(moto_pid "$p"); then say "moto_server $p: running (pid $pid)"; else say "moto_server $p: stopped"; fi
        done
        ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
esac

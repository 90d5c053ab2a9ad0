#!/usr/bin/env bash
# shellcheck disable=SC2317  # on_exit and print_timings run from the EXIT trap
# Runs every test, after installing and starting what the tests need. The README's test command.
#
#   scripts/test.sh                      the whole suite (Swift, then the browser tests if any)
#   scripts/test.sh --filter Ladder      extra arguments go to `swift test`; the browser tests
#                                        (Tests/browser, pytest) then run only with PULSE_BROWSER_TESTS=1,
#                                        the client contract tests only with PULSE_CLIENT_TESTS=1
#
# Phases: setup --test (apt/pip, only what is missing), test media, services (PostgreSQL, two
# moto_servers), `swift build --build-tests`, `swift test`, browser tests, client contract
# (openapi-spec-validator on docs/openapi.yaml, then `swift test` in Tests/Client: a client generated
# from the document drives every /v1 operation against the built `serve`). The services are stopped
# on exit, whatever happens. Exit status: swift test's (or the build's), else the first failing
# later phase's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Swift lives in /opt/swift on the project's machines; not necessarily on PATH in CI.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

PHASES=()
T_START=$(date +%s)
PHASE_OPEN=0
phase_begin() {
    PHASE_NAME=$1
    PHASE_T0=$(date +%s)
    PHASE_OPEN=1
    printf '\n==> %s\n' "$PHASE_NAME"
}
phase_end() {
    local dt=$(($(date +%s) - PHASE_T0))
    PHASES+=("$(printf '%-28s %4d s  %s' "$PHASE_NAME" "$dt" "$1")")
    PHASE_OPEN=0
}
print_timings() {
    printf '\n==> timings\n'
    local p
    for p in "${PHASES[@]}"; do printf '    %s\n' "$p"; done
    printf '    %-28s %4d s\n' "total" "$(($(date +%s) - T_START))"
}

services_started=0
on_exit() {
    local rc=$?
    set +e
    [ "$PHASE_OPEN" -eq 1 ] && phase_end "FAILED (exit $rc)"
    if [ "$services_started" -eq 1 ]; then
        phase_begin "stop services"
        bash scripts/test-services.sh stop
        phase_end "done"
    fi
    print_timings
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
phase_begin "setup (apt/pip if missing)"
bash scripts/setup.sh --test
command -v swift >/dev/null 2>&1 || { echo "swift not found on PATH" >&2; exit 1; }
phase_end "ok"

phase_begin "test media"
bash scripts/gen-test-media.sh
phase_end "ok"

phase_begin "start services"
export PULSE_TEST_SERVICES_HOLDER=$$
services_started=1
bash scripts/test-services.sh start
eval "$(bash scripts/test-services.sh env)"
export PULSE_REQUIRE_SERVICES=1
bash scripts/test-services.sh env | sed 's/^/    /'
phase_end "ok"

phase_begin "swift build --build-tests"
swift --version 2>&1 | head -n 1
swift build --build-tests </dev/null
phase_end "ok"

phase_begin "swift test $*"
# At most 8 tests at once (swift-testing starts every test together otherwise): most of them run
# a server, ffmpeg or sockets, and a few hundred started at once on 2 cores starve each other past
# their time limits when the machine is busy too. Set the variable to change it.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8}
set +e
swift test "$@" </dev/null
swift_rc=$?
set -e
phase_end "exit $swift_rc"

browser_rc=0
if [ -d Tests/browser ] && [ -n "$(find Tests/browser -name 'test_*.py' -o -name '*_test.py' | head -n 1)" ]; then
    if [ "$#" -eq 0 ] || [ "${PULSE_BROWSER_TESTS:-0}" = 1 ]; then
        phase_begin "browser tests (pytest)"
        set +e
        python3 -m pytest -q Tests/browser </dev/null
        browser_rc=$?
        set -e
        phase_end "exit $browser_rc"
    else
        echo "(browser tests skipped: arguments were given to swift test; PULSE_BROWSER_TESTS=1 runs them)"
    fi
fi

# The contract: the document validates, and a client generated from it (its own package, whose
# first build compiles the generator: minutes) works against the `serve` built above.
client_rc=0
if [ "$#" -eq 0 ] || [ "${PULSE_CLIENT_TESTS:-0}" = 1 ]; then
    phase_begin "client contract (Tests/Client)"
    set +e
    python3 -m openapi_spec_validator docs/openapi.yaml </dev/null &&
        (cd Tests/Client && swift test </dev/null)
    client_rc=$?
    set -e
    phase_end "exit $client_rc"
else
    echo "(client contract tests skipped: arguments were given to swift test; PULSE_CLIENT_TESTS=1 runs them)"
fi

if [ "$swift_rc" -ne 0 ]; then
    exit "$swift_rc"
fi
if [ "$browser_rc" -ne 0 ]; then
    exit "$browser_rc"
fi
exit "$client_rc"

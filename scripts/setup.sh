#!/usr/bin/env bash
# Installs what Pulse Video needs on a Debian 12 machine, and only what is missing.
#
#   scripts/setup.sh          ffmpeg/ffprobe (apt), a check that `swift` is there
#   scripts/setup.sh --test   also chromium + chromium-driver + PostgreSQL server + prometheus
#                             (promtool) + fonts-dejavu-core (apt),
#                             moto[server], selenium, pytest, standardwebhooks, blurhash,
#                             openapi-spec-validator, tuspy, PyJWT[crypto] and m3u8 (pip)
#
# Idempotent: when everything is present it runs no package manager at all. Quiet on success; on
# failure it prints the tail of the package manager's log and exits non-zero.
set -euo pipefail

want_test=0
for arg in "$@"; do
    case "$arg" in
        --test) want_test=1 ;;
        -h | --help)
            sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "setup.sh: unknown argument '$arg' (use --test or nothing)" >&2
            exit 2
            ;;
    esac
done

say() { printf '[setup] %s\n' "$*"; }
die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}

log=$(mktemp /tmp/pulse-setup.XXXXXX.log)
trap 'rm -f "$log"' EXIT

# Runs a command with its output captured; on failure shows the output's tail and stops.
run_quiet() {
    local what=$1
    shift
    if ! "$@" >"$log" 2>&1 </dev/null; then
        echo "[setup] ERROR: $what failed: $*" >&2
        echo "----- last lines of output -----" >&2
        tail -n 40 "$log" >&2
        echo "--------------------------------" >&2
        exit 1
    fi
}

# sudo only when we are not root (CI containers and this machine run as root).
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install system packages"
    as_root=(sudo -n)
fi

# ---------------------------------------------------------------------------------------- apt
pg_server_present() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/pg_ctl" ] && return 0
    done
    return 1
}

apt_missing=()
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    apt_missing+=(ffmpeg)
fi
if [ "$want_test" -eq 1 ]; then
    command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || apt_missing+=(chromium-driver)
    # The server binaries (initdb, pg_ctl, postgres); scripts/test-services.sh runs its own cluster.
    pg_server_present || apt_missing+=(postgresql)
    # promtool, Prometheus's own linter: the metrics test checks /metrics with it.
    command -v promtool >/dev/null 2>&1 || apt_missing+=(prometheus)
    # The screen-recording benchmark source (gen-bench-media.sh screen) draws its text in DejaVu Sans.
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_missing+=(fonts-dejavu-core)
fi

if [ "${#apt_missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing ${apt_missing[*]} and no apt-get: install them by hand"
    say "installing with apt: ${apt_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    run_quiet "apt-get update" "${as_root[@]}" apt-get update -q
    # policy-rc.d: do not start the distribution's postgres service on install (no systemd needed;
    # the tests run their own throwaway server). Only written when absent, removed afterwards.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ] && [ "$(id -u)" -eq 0 ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    rc=0
    "${as_root[@]}" apt-get install -y -q -o Dpkg::Use-Pty=0 "${apt_missing[@]}" >"$log" 2>&1 </dev/null || rc=$?
    [ "$made_policy" -eq 1 ] && rm -f "$policy"
    if [ "$rc" -ne 0 ]; then
        echo "[setup] ERROR: apt-get install ${apt_missing[*]} failed (exit $rc)" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    hash -r
fi

command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg still missing after apt-get install"
command -v ffprobe >/dev/null 2>&1 || die "ffprobe still missing after apt-get install"
if [ "$want_test" -eq 1 ]; then
    command -v chromium >/dev/null 2>&1 || die "chromium still missing after apt-get install"
    command -v chromedriver >/dev/null 2>&1 || die "chromedriver still missing after apt-get install"
    command -v promtool >/dev/null 2>&1 || die "promtool still missing after apt-get install (package prometheus)"
    pg_server_present || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) still missing"
fi

# ---------------------------------------------------------------------------------------- pip
if [ "$want_test" -eq 1 ]; then
    command -v python3 >/dev/null 2>&1 || die "python3 is missing (the machine image should have it)"
    pip_missing=()
    # moto[server] = moto plus flask, flask-cors (what moto_server imports).
    if ! python3 -c 'import moto, moto.server, flask, flask_cors' >/dev/null 2>&1; then
        pip_missing+=('moto[server]')
    fi
    python3 -c 'import selenium' >/dev/null 2>&1 || pip_missing+=(selenium)
    python3 -c 'import pytest' >/dev/null 2>&1 || pip_missing+=(pytest)
    # The Standard Webhooks reference verifier: the webhook tests check every delivery with it.
    python3 -c 'import standardwebhooks' >/dev/null 2>&1 || pip_missing+=('standardwebhooks==1.1.0')
    # The reference BlurHash encoder and decoder: the placeholder tests check ours against it.
    python3 -c 'import blurhash' >/dev/null 2>&1 || pip_missing+=('blurhash==1.1.5')
    # The OpenAPI 3.1 validator (with PyYAML and jsonschema): the contract tests check the document.
    python3 -c 'import openapi_spec_validator, yaml, jsonschema' >/dev/null 2>&1 || pip_missing+=('openapi-spec-validator==0.9.0')
    # tus's own Python client: the tus upload tests resume with it.
    python3 -c 'import tusclient' >/dev/null 2>&1 || pip_missing+=('tuspy==1.1.0')
    # PyJWT with its RSA support: the signed-playback tests sign JWTs offline as a backend would.
    python3 -c 'import jwt, cryptography' >/dev/null 2>&1 || pip_missing+=('PyJWT[crypto]==2.10.1')
    # An HLS playlist parser of its own: the Apple HLS rules are checked with it, not with our writer.
    python3 -c 'import m3u8' >/dev/null 2>&1 || pip_missing+=('m3u8==6.0.0')
    if [ "${#pip_missing[@]}" -gt 0 ]; then
        say "installing with pip: ${pip_missing[*]}"
        pip_args=(-m pip install -q --disable-pip-version-check --no-input)
        if ! python3 "${pip_args[@]}" "${pip_missing[@]}" >"$log" 2>&1 </dev/null; then
            # Debian's own python3 refuses global installs (PEP 668); the image's pip may not.
            if grep -q externally-managed-environment "$log"; then
                run_quiet "pip install" python3 "${pip_args[@]}" --break-system-packages "${pip_missing[@]}"
            else
                echo "[setup] ERROR: pip install ${pip_missing[*]} failed" >&2
                tail -n 40 "$log" >&2
                exit 1
            fi
        fi
        # pyenv keeps console scripts behind shims that need a rehash to appear.
        if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
    fi
    python3 -c 'import moto.server, selenium, pytest, standardwebhooks, openapi_spec_validator, yaml, jsonschema' >/dev/null 2>&1 ||
        die "python packages still missing after pip install (moto[server], selenium, pytest, standardwebhooks, openapi-spec-validator)"
fi

# -------------------------------------------------------------------------------------- swift
if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        say "note: swift is at /opt/swift/usr/bin but not on PATH; the scripts add it," \
            "for your shell: export PATH=/opt/swift/usr/bin:\$PATH"
    else
        die "swift not found. Install Swift 6.x (https://www.swift.org/install/linux/) and put it on PATH"
    fi
fi

exit 0

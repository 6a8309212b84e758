#!/usr/bin/env bash
# Compare application servers for niangjia on loopback: gunicorn (sync, gthread), granian (WSGI)
# and uvicorn (ASGI), each with 2 worker processes, serving /healthz, the login page and the
# home page of a signed-in provincial cadre (hubei_cadre: figures over the Hubei subtree).
#
#   bench/server_compare.sh            (or: make bench-server)
#
# Needs wrk (apt-get install wrk). Builds a throwaway virtualenv in var/bench/venv with the
# locked runtime dependencies plus the candidate servers, and a throwaway SQLite database in
# var/bench/ with the demo data; the project's .venv and var/niangjia.sqlite3 are not touched.
# (granian is the project's server; gunicorn and uvicorn are installed here for comparison.)
# Each round starts every server in turn (so background load hits all alike); the summary gives
# the median over ROUNDS. Besides requests per second it reports the CPU time the server's
# processes spent per request (from /proc), which stays meaningful on a busy shared machine.
# Knobs: ROUNDS (3), DURATION (seconds per run, 10), CONNECTIONS (16), PORT (8100),
# WORKERS (2), THREADS (4), SERVERS_ONLY (e.g. "gunicorn-gthread granian-wsgi").
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/var/bench
VENV=$BENCH/venv
PORT=${PORT:-8100}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-16}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
GRANIAN_VERSION=2.8.7
GUNICORN_VERSION=27.0.1
UVICORN_VERSION=0.54.0
URLS=(/healthz /accounts/login/ /)  # "/" is requested as hubei_cadre

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
[[ -x .venv/bin/uv ]] || { echo "run 'make venv' first" >&2; exit 1; }

mkdir -p "$BENCH"
if [[ ! -x $VENV/bin/granian || ! -x $VENV/bin/gunicorn || ! -x $VENV/bin/uvicorn ]]; then
    echo "== building $VENV"
    .venv/bin/uv venv -q --python .venv/bin/python "$VENV"
    .venv/bin/uv export --frozen --no-dev --no-hashes -q >"$BENCH/requirements.txt"
    .venv/bin/uv pip install -q --python "$VENV/bin/python" -r "$BENCH/requirements.txt" \
        "granian==$GRANIAN_VERSION" "gunicorn==$GUNICORN_VERSION" \
        "uvicorn[standard]==$UVICORN_VERSION"
fi

export PYTHONPATH=$ROOT
export DEBUG=false SECURE_COOKIES=false ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
export NIANGJIA_VAR_DIR=$BENCH STATIC_ROOT=$BENCH/static
export SECRET_KEY=${SECRET_KEY:-bench-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export FIELD_ENCRYPTION_KEYS=${FIELD_ENCRYPTION_KEYS:-0:$(head -c 32 /dev/urandom | base64)}
export FIELD_HASH_KEY=${FIELD_HASH_KEY:-$(head -c 32 /dev/urandom | base64)}
unset DATABASE_URL
echo "== database and static files in $BENCH"
"$VENV/bin/python" manage.py migrate -v0 --noinput
"$VENV/bin/python" manage.py collectstatic -v0 --noinput
"$VENV/bin/python" manage.py load_demo --if-empty --no-logins >/dev/null
SESSION_ID=$("$VENV/bin/python" manage.py shell --no-imports -c "
from django.test import Client
from niangjia.accounts.models import User
client = Client()
client.force_login(User.objects.get(username='hubei_cadre'))
print(client.cookies['sessionid'].value)" | tail -n 1)

SERVER_PID=""
stop_server() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT

# CPU seconds (user + system) used so far by every process of the server's process group.
server_cpu() {
    python3 - "$1" <<'PY'
import os
import sys

pgid, ticks = int(sys.argv[1]), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if int(fields[2]) == pgid:  # fields[0] is the state; pgrp is field 5 of stat
        ticks += int(fields[11]) + int(fields[12])
print(ticks / os.sysconf("SC_CLK_TCK"))
PY
}

wait_ready() {
    for _ in $(seq 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    echo "server did not come up on port $PORT" >&2
    return 1
}

declare -A SERVERS=(
    [gunicorn-sync]="$VENV/bin/gunicorn niangjia.wsgi:application -b 127.0.0.1:$PORT -w $WORKERS -k sync --no-control-socket"
    [gunicorn-gthread]="$VENV/bin/gunicorn niangjia.wsgi:application -b 127.0.0.1:$PORT -w $WORKERS -k gthread --threads $THREADS --no-control-socket"
    [granian-wsgi]="$VENV/bin/granian --interface wsgi --host 127.0.0.1 --port $PORT --workers $WORKERS --blocking-threads $THREADS --no-ws niangjia.wsgi:application"
    [uvicorn-asgi]="$VENV/bin/uvicorn niangjia.asgi:application --host 127.0.0.1 --port $PORT --workers $WORKERS --no-access-log --log-level warning"
)
read -r -a ORDER <<<"${SERVERS_ONLY:-gunicorn-sync gunicorn-gthread granian-wsgi uvicorn-asgi}"

RESULTS=$BENCH/results.tsv
printf "round\tserver\turl\treq_per_s\tp50\tp99\terrors\tcpu_ms_per_req\n" >"$RESULTS"
echo "== $ROUNDS rounds of $DURATION s per run, $CONNECTIONS connections, $WORKERS workers," \
    "loopback port $PORT, $(nproc) cores"
for round in $(seq "$ROUNDS"); do
    for name in "${ORDER[@]}"; do
        # shellcheck disable=SC2086
        setsid ${SERVERS[$name]} >"$BENCH/$name.log" 2>&1 &
        SERVER_PID=$!
        wait_ready
        for url in "${URLS[@]}"; do
            cookie=()
            [[ $url == / ]] && cookie=(-H "Cookie: sessionid=$SESSION_ID")
            status=$(curl -s -o /dev/null -w '%{http_code}' "${cookie[@]}" "http://127.0.0.1:$PORT$url")
            [[ $status == 200 ]] || { echo "$name $url answered $status, not 200" >&2; exit 1; }
            wrk -t1 -c"$CONNECTIONS" -d2s "${cookie[@]}" "http://127.0.0.1:$PORT$url" >/dev/null
            cpu_before=$(server_cpu "$SERVER_PID")
            out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${cookie[@]}" \
                "http://127.0.0.1:$PORT$url")
            cpu_after=$(server_cpu "$SERVER_PID")
            requests=$(awk '/requests in/ {print $1}' <<<"$out")
            cpu_ms=$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$requests" \
                'BEGIN {printf "%.2f", (b - a) * 1000 / n}')
            rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
            p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
            p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
            errors=$(awk '/Non-2xx or 3xx responses:/ {n += $5}
                          /Socket errors:/ {for (i = 4; i <= NF; i += 2) n += $i + 0}
                          END {print n + 0}' <<<"$out")
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$round" "$name" "$url" "$rps" "$p50" \
                "$p99" "$errors" "$cpu_ms" | tee -a "$RESULTS"
        done
        stop_server
    done
done

echo "== median over $ROUNDS rounds (all runs in $RESULTS)"
"$VENV/bin/python" - "$RESULTS" <<'PY'
import csv
import statistics
import sys
from collections import defaultdict


def ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


runs = defaultdict(list)
with open(sys.argv[1]) as fh:
    for row in csv.DictReader(fh, delimiter="\t"):
        runs[(row["server"], row["url"])].append(row)
print(
    f"{'server':<18}{'url':<18}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    f"{'CPU ms/req':>12}"
)
for (server, url), rows in runs.items():
    rps = statistics.median(float(r["req_per_s"]) for r in rows)
    p50 = statistics.median(ms(r["p50"]) for r in rows)
    p99 = statistics.median(ms(r["p99"]) for r in rows)
    errors = sum(int(r["errors"]) for r in rows)
    cpu = statistics.median(float(r["cpu_ms_per_req"]) for r in rows)
    print(f"{server:<18}{url:<18}{rps:>8.0f}{p50:>9.1f}{p99:>9.1f}{errors:>8}{cpu:>12.2f}")
PY

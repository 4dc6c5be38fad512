#!/usr/bin/env bash
# Schemathesis against the OpenAPI document the server serves (issue 6, story 5: bad input).
#
# Builds and starts gatehouse-server on a free loopback port with a temporary data directory,
# logs in as the manager, runs schemathesis twice with a fixed seed (positive data, then
# negative data), checks that the negative run changed nothing (same audit log length, chain
# intact) and that the server never panicked, and stops the server.
#
# Environment: SCHEMATHESIS_SEED (default 20261127), SCHEMATHESIS_EXAMPLES per operation
# (default 20), CARGO_TARGET_DIR (as cargo), KEEP_LOGS=1 keeps the data directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seed="${SCHEMATHESIS_SEED:-20261127}"
examples="${SCHEMATHESIS_EXAMPLES:-20}"
password="schemathesis-manager-password"

# schemathesis in a virtualenv beside this script (git-ignored).
venv="$here/.venv"
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi

cargo build --quiet -p gatehouse-server --bin gatehouse-server --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/debug/gatehouse-server"

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
GATEHOUSE_ADMIN_PASSWORD="$password" "$bin" --listen "127.0.0.1:$port" --data-dir "$data" \
    >"$data/server.log" 2>&1 &
server=$!

stop() {
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    if [ "${KEEP_LOGS:-0}" = 1 ]; then
        echo "server log and reports kept in $data"
    else
        rm -rf "$data"
    fi
}
trap stop EXIT

for _ in $(seq 1 100); do
    curl -sf "$base/healthz" >/dev/null && break
    sleep 0.1
done
curl -sf "$base/healthz" >/dev/null || { cat "$data/server.log"; exit 1; }

token="$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\": \"admin\", \"password\": \"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

# The audit log length, after checking the chain is intact.
audit_length() {
    curl -sf "$base/api/v1/audit/verify" -H "Authorization: Bearer $token" |
        python3 -c 'import json, sys; v = json.load(sys.stdin); assert v["ok"], v; print(v["entries"])'
}

# Requests the server has answered so far, from its own metrics.
requests_served() {
    curl -sf "$base/metrics" |
        awk '/^http_requests_total[{ ]/ { n += $NF } END { printf "%d\n", n }'
}

# What every answer is checked for; error_bodies_are_json_4xx is ours (hooks.py): every error
# is a 4xx with a JSON body of exactly `error` and `message`.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks=$checks,response_schema_conformance,error_bodies_are_json_4xx

# Enrols a device of kind $1 (kiosk or gate) and prints its API key.
device_key() {
    local enrolment
    enrolment="$(curl -sf -X POST "$base/api/v1/devices" -H "Authorization: Bearer $token" \
        -H 'content-type: application/json' -d "{\"kind\": \"$1\", \"name\": \"schemathesis $1\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["enrolment_token"])')"
    curl -sf -X POST "$base/api/v1/devices/enrol" -H 'content-type: application/json' \
        -d "{\"token\": \"$enrolment\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])'
}
kiosk="$(device_key kiosk)"
gate="$(device_key gate)"

# One schemathesis run: mode $1, checks $2, as caller $3 (manager, kiosk or gate), with extra
# options. Logging out, a password change or reset, or a role change (each ends every session
# of the account) would end the token every request uses.
schemathesis() {
    local mode="$1" checks="$2" caller="$3" bearer
    shift 3
    case "$caller" in
    manager) bearer="$token" ;;
    kiosk) bearer="$kiosk" ;;
    gate) bearer="$gate" ;;
    esac
    # From the data directory, so schemathesis's own files land there and not in the tree.
    (cd "$data" && SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" "$venv/bin/st" run "$base/api/openapi.json" \
        --url "$base" \
        --mode "$mode" \
        --seed "$seed" \
        --max-examples "$examples" \
        --phases examples,coverage,fuzzing \
        --workers 1 \
        --checks "$checks" \
        --exclude-path /api/v1/auth/logout \
        --exclude-path /api/v1/auth/password \
        --exclude-path '/api/v1/staff/{id}/password' \
        --exclude-path '/api/v1/staff/{id}/role' \
        --generation-database none \
        --request-timeout 10 \
        --header "Authorization: Bearer $bearer" \
        --report ndjson --report-dir "$data/report-$mode-$caller" \
        --no-color \
        "$@")
}

# Known bad input, each refused with its status and stable code in a JSON error body with
# the case's values in `details`: $1 status, $2 code, $3 a details key (or -), then curl's
# arguments.
refused() {
    local status="$1" code="$2" key="$3" out
    shift 3
    out="$(mktemp)"
    got="$(curl -s -o "$out" -w '%{http_code}' "$@")"
    python3 - "$out" "$got" "$status" "$code" "$key" <<'PY' || { echo "bad input: $*" >&2; exit 1; }
import json, sys
path, got, status, code, key = sys.argv[1:]
body = json.load(open(path))
assert got == status, f"status {got}, not {status}: {body}"
assert body["error"] == code and body["message"], body
assert isinstance(body["details"], dict), body
assert key == "-" or key in body["details"], f"no {key} in details: {body}"
PY
    rm -f "$out"
}
bad_input() {
    local auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')
    # A 100 kB query string: answered before routing, still JSON.
    refused 414 uri_too_long - "$base/api/v1/cards?q=$(head -c 100000 /dev/zero | tr '\0' a)"
    refused 422 date_out_of_range field "${auth[@]}" -X POST "$base/api/v1/blackout-dates" \
        -d '{"date": "9999-12-31"}'
    refused 422 date_out_of_range max "${auth[@]}" -X POST "$base/api/v1/blackout-dates" \
        -d '{"date": "1900-01-01"}'
    refused 422 unknown_building building "${auth[@]}" -X POST "$base/api/v1/zones" \
        -d '{"name": "nowhere", "building": 250, "class": "entrance"}'
    refused 422 invalid - "${auth[@]}" -X POST "$base/api/v1/devices" \
        -d '{"kind": "gate", "name": "door\u0000one"}'
}

started=$(date +%s)
bad_input
served_before="$(requests_served)"
# The manager calls every route (device routes answer 403); each device calls its own routes.
# The long polls (the gate's changes, the guard page's permit scans, the kiosk's print jobs)
# are left to the integration tests: any wait_ms is accepted (and capped at 30 s), so generated
# calls would each hold a connection for up to 30 s. So is the live monitor's event stream, which never ends by
# itself. The guard's hand-scan shares the path and is tested there too.
# The operations caller $1 is run against, as schemathesis options in the array `only`.
operations_of() {
    case "$1" in
    manager) only=(--exclude-path /api/v1/guard/scans --exclude-path /api/v1/monitor/events) ;;
    *) only=(--include-tag "$1" --exclude-path /api/v1/gate/changes --exclude-path /api/v1/kiosk/print-jobs) ;;
    esac
}
for caller in manager kiosk gate; do
    operations_of "$caller"
    schemathesis positive "$checks" "$caller" "${only[@]}"
done
before="$(audit_length)"
# Malformed data must be refused with a 4xx and change nothing. Running retention and starting
# or ending an evacuation take no input at all, so nothing about them can be malformed: they
# stay in the positive run only.
for caller in manager kiosk gate; do
    operations_of "$caller"
    schemathesis negative "$checks,negative_data_rejection" "$caller" \
        --exclude-path /api/v1/retention/run --exclude-path /api/v1/evacuation "${only[@]}"
done
after="$(audit_length)"
elapsed=$(($(date +%s) - started))
requests=$(($(requests_served) - served_before))

if grep -qi "panicked" "$data/server.log"; then
    echo "the server panicked:" >&2
    grep -i -A3 "panicked" "$data/server.log" >&2
    exit 1
fi
if [ "$before" != "$after" ]; then
    echo "malformed requests changed state: the audit log grew from $before to $after entries" >&2
    curl -sf "$base/api/v1/audit?limit=$((after - before))" -H "Authorization: Bearer $token" >&2
    exit 1
fi
echo "schemathesis: positive and negative runs passed: $requests requests in ${elapsed}s," \
    "no 5xx, no panic, audit log unchanged by the negative run ($after entries)"

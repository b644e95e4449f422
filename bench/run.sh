#!/usr/bin/env bash
# proconsul KV vs etcd, same machine, same run: `bash bench/run.sh`.
# BENCH_QUICK=1 shortens every measured period (3 s instead of 10 s). Not a test; not CI.
# See bench/README.md for what each row means.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "load average at start: $LOAD$(awk -v l="$LOAD" 'BEGIN { if (l > 1.0) print "  (above 1.0: this run is NOISY)" }')"

QUICK=${BENCH_QUICK:-0}
REPEATS=${BENCH_REPEATS:-3}
STARTS=${BENCH_STARTS:-5}
WATCHERS=${BENCH_WATCHERS:-10000}
if [ "$QUICK" = 1 ]; then SECS=3; WARM_MS=500; else SECS=10; WARM_MS=1000; fi

log() { echo "[bench $(date +%T)] $*" >&2; }

# --- tools -----------------------------------------------------------------------------
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null || ! command -v fio >/dev/null; then
    log "installing etcd-server, etcd-client, fio from Debian"
    apt-get update -qq && apt-get install -y -qq etcd-server etcd-client fio >/dev/null || {
        echo "apt-get install failed" >&2
        exit 1
    }
fi

# 10k held blocking queries need 10k sockets in the load generator and in the agent.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

log "building proconsul and the load generator (release)"
cargo build --release -q -p proconsul -p proconsul-loadgen || exit 1
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PC=$TARGET_DIR/release/proconsul
LG=$TARGET_DIR/release/loadgen

# Data lives on the real disk (under target/), never on a tmpfs: fsync must mean something.
mkdir -p "$TARGET_DIR/bench"
WORK=$(mktemp -d "$TARGET_DIR/bench/run.XXXXXX")
RES=$WORK/results.jsonl
: >"$RES"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK/pc" "$WORK/etcd" "$WORK"/pc-* "$WORK"/etcd-* "$WORK/fio"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- ports -----------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_base() {
    local base i ok
    for _ in $(seq 1 50); do
        base=$((20000 + RANDOM % 30000))
        ok=1
        for i in $(seq 0 15); do port_free $((base + i)) || { ok=0; break; }; done
        [ $ok = 1 ] && { echo "$base"; return; }
    done
    echo "no free port range" >&2
    exit 1
}
BASE=$(pick_base)
PC_HTTP=$BASE; ETCD_CLIENT=$((BASE + 4)); ETCD_PEER=$((BASE + 5))
DEV_HTTP=$((BASE + 6)); ETCD2_CLIENT=$((BASE + 10)); ETCD2_PEER=$((BASE + 11))

# proconsul agent flags; $1 = http port, then the remaining ports follow it.
pc_ports() {
    echo "-http-port=$1 -dns-port=-1 -server-port=$(($1 + 1)) -serf-lan-port=$(($1 + 2))" \
        "-serf-wan-port=$(($1 + 3)) -grpc-port=-1 -bind=127.0.0.1 -client=127.0.0.1 -log-level=warn"
}
etcd_args() { # name dir client-port peer-port
    echo "--name $1 --data-dir $2 --listen-client-urls http://127.0.0.1:$3" \
        "--advertise-client-urls http://127.0.0.1:$3 --listen-peer-urls http://127.0.0.1:$4" \
        "--initial-advertise-peer-urls http://127.0.0.1:$4 --initial-cluster $1=http://127.0.0.1:$4"
}

wait_ready() { # url grep-pattern what
    for _ in $(seq 1 400); do
        curl -sf -m 1 "$1" 2>/dev/null | grep -q "$2" && return 0
        sleep 0.05
    done
    echo "$3 did not become ready (see $WORK/*.log)" >&2
    exit 1
}

start_proconsul() { # data dir
    rm -rf "$1" && mkdir -p "$1"
    # shellcheck disable=SC2046
    "$PC" agent -server -bootstrap-expect=1 -data-dir="$1" $(pc_ports "$PC_HTTP") \
        >>"$WORK/proconsul.log" 2>&1 &
    PC_PID=$!
    PIDS+=("$PC_PID")
    wait_ready "http://127.0.0.1:$PC_HTTP/v1/status/leader" '"..*"' proconsul
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

start_etcd() {
    rm -rf "$WORK/etcd"
    # shellcheck disable=SC2046
    etcd $(etcd_args b1 "$WORK/etcd" "$ETCD_CLIENT" "$ETCD_PEER") >>"$WORK/etcd.log" 2>&1 &
    ETCD_PID=$!
    PIDS+=("$ETCD_PID")
    wait_ready "http://127.0.0.1:$ETCD_CLIENT/health" '"health":"true"' etcd
}

addr_of() { [ "$1" = proconsul ] && echo "127.0.0.1:$PC_HTTP" || echo "127.0.0.1:$ETCD_CLIENT"; }

measure() { # system label op conns
    log "  $2 $1"
    "$LG" load --system "$1" --addr "$(addr_of "$1")" --op "$3" --conns "$4" \
        --secs "$SECS" --warmup-ms "$WARM_MS" --label "$2" >>"$RES" || log "  $2 $1 failed"
}

run_fio() {
    mkdir -p "$WORK/fio"
    fio --name=sync --rw=write --ioengine=sync --fdatasync=1 --size=22m --bs=2300 \
        --directory="$WORK/fio" --output-format=json >"$WORK/fio.json" 2>/dev/null &&
        "$LG" fio "$WORK/fio.json" >>"$RES" || log "  fio failed"
    rm -rf "$WORK/fio"
}

# --- KV: PUT/GET, alternating etcd and proconsul ------------------------------------------
log "starting durable proconsul (:$PC_HTTP) and etcd (:$ETCD_CLIENT); results in $RES"
start_proconsul "$WORK/pc"
start_etcd
for sys in proconsul etcd; do
    "$LG" preload --system "$sys" --addr "$(addr_of "$sys")" || log "preload $sys failed"
done
for rep in $(seq 1 "$REPEATS"); do
    if [ $((rep % 2)) = 1 ]; then order="etcd proconsul"; else order="proconsul etcd"; fi
    log "repeat $rep/$REPEATS (order: $order)"
    log "  fio fdatasync"
    run_fio
    for sys in $order; do measure "$sys" put64 put 64; done
    for sys in $order; do measure "$sys" put1 put 1; done
    for sys in $order; do measure "$sys" get64 get 64; done
done
stop_pid "$ETCD_PID"

# --- blocking queries: a fresh agent per repeat, so freed memory is not reused ----------
for rep in $(seq 1 "$REPEATS"); do
    stop_pid "$PC_PID"
    log "watch $rep/$REPEATS: $WATCHERS blocking queries on A + 100 on B"
    start_proconsul "$WORK/pc-watch"
    "$LG" watch --addr "127.0.0.1:$PC_HTTP" --pid "$PC_PID" --watchers "$WATCHERS" \
        --others 100 >>"$RES" || log "  watch failed"
done
stop_pid "$PC_PID"

# --- start-to-serving and idle RSS, alternating -----------------------------------------
for i in $(seq 1 "$STARTS"); do
    log "startup $i/$STARTS"
    rm -rf "$WORK/etcd-s"
    # shellcheck disable=SC2046
    "$LG" startup --system proconsul --addr "127.0.0.1:$DEV_HTTP" -- \
        "$PC" agent -dev $(pc_ports "$DEV_HTTP") >>"$RES" || log "  proconsul startup failed"
    # shellcheck disable=SC2046
    "$LG" startup --system etcd --addr "127.0.0.1:$ETCD2_CLIENT" -- \
        etcd $(etcd_args s1 "$WORK/etcd-s" "$ETCD2_CLIENT" "$ETCD2_PEER") >>"$RES" ||
        log "  etcd startup failed"
done

echo
"$LG" report "$RES" --load "$LOAD" --cores "$(nproc)"
echo "raw results: $RES"

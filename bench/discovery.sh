#!/usr/bin/env bash
# Service-discovery benchmarks (issue 3), same machine, same run: `bash bench/discovery.sh`.
#   1. DNS: dnsperf against proconsul, Knot DNS (1 worker) and dnsmasq, UDP and TCP.
#   2. Health watch fan-out: 500 watchers while 200 instances flap, vs etcd watches.
#   3. Catalog scale: 10,000 nodes / 100,000 instances, read service X (1,000), vs etcd range.
# BENCH_QUICK=1 shortens every measured period; BENCH_ONLY=dns,watch,catalog picks parts.
# Not a test; not CI. See bench/README.md for what each row means.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "load average at start: $LOAD$(awk -v l="$LOAD" 'BEGIN { if (l > 1.0) print "  (above 1.0: this run is NOISY)" }')"

QUICK=${BENCH_QUICK:-0}
REPEATS=${BENCH_REPEATS:-3}
ONLY=${BENCH_ONLY:-dns,watch,catalog}
WATCHERS=${BENCH_FLAP_WATCHERS:-500}
FLAP_INSTANCES=${BENCH_FLAP_INSTANCES:-200}
NODES=${BENCH_CATALOG_NODES:-10000}
INSTANCES=${BENCH_CATALOG_INSTANCES:-100000}
if [ "$QUICK" = 1 ]; then
    DNS_SECS=3; FLAP_SECS=10; GRACE=5; READ_SECS=3; WARM_MS=500
else
    DNS_SECS=10; FLAP_SECS=20; GRACE=10; READ_SECS=10; WARM_MS=1000
fi
want() { [[ ",$ONLY," == *",$1,"* ]]; }

log() { echo "[discovery $(date +%T)] $*" >&2; }
die() { echo "discovery: $*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------
need=()
for tool in dnsperf:dnsperf knotd:knot knotc:knot dnsmasq:dnsmasq dig:dnsutils \
    etcd:etcd-server etcdctl:etcd-client curl:curl; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} from Debian"
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null ||
        die "apt-get install ${need[*]} failed"
fi
CLK_TCK=$(getconf CLK_TCK)

# 500 watchers and 64 loading connections need sockets in the load generator and the servers.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

log "building proconsul and the load generator (release)"
cargo build --release -q -p proconsul -p proconsul-loadgen || die "cargo build failed"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PC=$TARGET_DIR/release/proconsul
LG=$TARGET_DIR/release/loadgen

# Data lives on the real disk (under target/), never on a tmpfs: fsync must mean something.
mkdir -p "$TARGET_DIR/bench"
WORK=$(mktemp -d "$TARGET_DIR/bench/discovery.XXXXXX")
RES=$WORK/results.jsonl
: >"$RES"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.2
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"/pc-* "$WORK"/etcd-* "$WORK/knot/db"
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
    die "no free port range"
}
BASE=$(pick_base)
PC_HTTP=$BASE; PC_DNS=$((BASE + 4)); KNOT_PORT=$((BASE + 5)); DNSMASQ_PORT=$((BASE + 6))
ETCD_CLIENT=$((BASE + 7)); ETCD_PEER=$((BASE + 8))

pc_flags() { # http-port dns-port
    echo "-http-port=$1 -dns-port=$2 -server-port=$(($1 + 1)) -serf-lan-port=$(($1 + 2))" \
        "-serf-wan-port=$(($1 + 3)) -grpc-port=-1 -bind=127.0.0.1 -client=127.0.0.1 -log-level=warn"
}

wait_ready() { # url grep-pattern what (bounded: 20 s)
    for _ in $(seq 1 400); do
        curl -sf -m 1 "$1" 2>/dev/null | grep -q "$2" && return 0
        sleep 0.05
    done
    die "$3 did not become ready (see $WORK/*.log)"
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

start_proconsul() { # mode (dev|server) dns-port
    local flags
    flags=$(pc_flags "$PC_HTTP" "$2")
    if [ "$1" = dev ]; then
        # shellcheck disable=SC2086
        "$PC" agent -dev $flags >>"$WORK/proconsul.log" 2>&1 &
    else
        rm -rf "$WORK/pc-data" && mkdir -p "$WORK/pc-data"
        # shellcheck disable=SC2086
        "$PC" agent -server -bootstrap-expect=1 -data-dir="$WORK/pc-data" $flags \
            >>"$WORK/proconsul.log" 2>&1 &
    fi
    PC_PID=$!
    PIDS+=("$PC_PID")
    wait_ready "http://127.0.0.1:$PC_HTTP/v1/status/leader" '"..*"' proconsul
}

start_etcd() {
    rm -rf "$WORK/etcd-data"
    etcd --name b1 --data-dir "$WORK/etcd-data" \
        --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
        --initial-cluster "b1=http://127.0.0.1:$ETCD_PEER" >>"$WORK/etcd.log" 2>&1 &
    ETCD_PID=$!
    PIDS+=("$ETCD_PID")
    wait_ready "http://127.0.0.1:$ETCD_CLIENT/health" '"health":"true"' etcd
}

addr_of() { [ "$1" = proconsul ] && echo "127.0.0.1:$PC_HTTP" || echo "127.0.0.1:$ETCD_CLIENT"; }
pid_of() { [ "$1" = proconsul ] && echo "$PC_PID" || echo "$ETCD_PID"; }
alternate() { # repeat a b: "a b" on odd repeats, "b a" on even ones
    if [ $(($1 % 2)) = 1 ]; then echo "$2 $3"; else echo "$3 $2"; fi
}

# --- 1. DNS ----------------------------------------------------------------------------
ADDRS="10.0.0.1 10.0.0.2 10.0.0.3"

start_knot() {
    mkdir -p "$WORK/knot/db"
    cat >"$WORK/knot/knot.conf" <<EOF
server:
    rundir: "$WORK/knot"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$WORK/knot/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$WORK/knot"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: consul.
EOF
    {
        echo "\$ORIGIN consul."
        echo "\$TTL 0"
        echo "@ IN SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0"
        echo "@ IN NS ns.consul."
        echo "ns IN A 127.0.0.1"
        for a in $ADDRS; do echo "web.service IN A $a"; done
    } >"$WORK/knot/consul.zone"
    knotc -c "$WORK/knot/knot.conf" conf-check >/dev/null || die "knot configuration rejected"
    knotd -c "$WORK/knot/knot.conf" >>"$WORK/knot.log" 2>&1 &
    KNOT_PID=$!
    PIDS+=("$KNOT_PID")
}

start_dnsmasq() {
    local records=()
    for a in $ADDRS; do records+=("--host-record=web.service.consul,$a"); done
    dnsmasq --no-daemon --port="$DNSMASQ_PORT" --listen-address=127.0.0.1 --bind-interfaces \
        --no-resolv --no-hosts --no-poll --user=root --log-facility=- "${records[@]}" \
        >>"$WORK/dnsmasq.log" 2>&1 &
    DNSMASQ_PID=$!
    PIDS+=("$DNSMASQ_PID")
}

dns_port_of() {
    case $1 in
        proconsul) echo "$PC_DNS" ;;
        knot) echo "$KNOT_PORT" ;;
        dnsmasq) echo "$DNSMASQ_PORT" ;;
    esac
}

# Every server must answer the three A records, over UDP and TCP, before it is measured.
check_answers() { # system
    local want got proto
    want=$(echo "$ADDRS" | tr ' ' '\n' | sort | xargs)
    for proto in +notcp +tcp; do
        for _ in $(seq 1 100); do
            got=$(dig @127.0.0.1 -p "$(dns_port_of "$1")" web.service.consul A +short "$proto" \
                +time=1 +tries=1 2>/dev/null | sort | xargs)
            [ "$got" = "$want" ] && break
            sleep 0.1
        done
        [ "$got" = "$want" ] || die "$1 answers web.service.consul A ($proto) with '$got', expected '$want'"
    done
}

run_dnsperf() { # system mode(udp|tcp)
    local out=$WORK/dnsperf-$1-$2.txt
    log "  dnsperf $2 $1"
    dnsperf -m "$2" -s 127.0.0.1 -p "$(dns_port_of "$1")" -d "$WORK/queries.txt" \
        -c 1 -T 1 -q 100 -t 2 -l "$DNS_SECS" >"$out" 2>&1 &&
        "$LG" dnsperf "$out" --system "$1" --label "dns-$2" >>"$RES" ||
        log "  dnsperf $2 $1 failed (see $out)"
}

if want dns; then
    log "DNS: proconsul -dev (:$PC_DNS), Knot (:$KNOT_PORT), dnsmasq (:$DNSMASQ_PORT); results in $RES"
    start_proconsul dev "$PC_DNS"
    i=0
    for a in $ADDRS; do
        i=$((i + 1))
        curl -sf -m 5 -X PUT "http://127.0.0.1:$PC_HTTP/v1/catalog/register" -d "{\"Node\":\"dns-n$i\",
            \"Address\":\"$a\",\"Service\":{\"ID\":\"web$i\",\"Service\":\"web\",\"Port\":80},
            \"Check\":{\"CheckID\":\"web$i-chk\",\"Name\":\"web$i-chk\",\"Status\":\"passing\",
            \"ServiceID\":\"web$i\"}}" >/dev/null || die "registering web$i failed"
    done
    start_knot
    start_dnsmasq
    echo "web.service.consul A" >"$WORK/queries.txt"
    for sys in proconsul knot dnsmasq; do check_answers "$sys"; done
    orders=("knot dnsmasq proconsul" "proconsul knot dnsmasq" "dnsmasq proconsul knot")
    for rep in $(seq 1 "$REPEATS"); do
        order=${orders[$(((rep - 1) % 3))]}
        log "DNS repeat $rep/$REPEATS (order: $order)"
        for sys in $order; do run_dnsperf "$sys" udp; done
        # dnsmasq's TCP path serves one query at a time and stalls on pipelined queries
        # (~40 q/s with one outstanding query), so it has no TCP figure.
        for sys in $order; do [ "$sys" = dnsmasq ] || run_dnsperf "$sys" tcp; done
    done
    for sys in proconsul knot dnsmasq; do check_answers "$sys"; done
    stop_pid "$PC_PID"
    stop_pid "$KNOT_PID"
    stop_pid "$DNSMASQ_PID"
fi

# --- 2. health watch fan-out -----------------------------------------------------------
if want watch; then
    log "watch: $WATCHERS watchers, $FLAP_INSTANCES instances flapping every 10 s, ${FLAP_SECS} s per run"
    start_proconsul server -1
    start_etcd
    for rep in $(seq 1 "$REPEATS"); do
        order=$(alternate "$rep" etcd proconsul)
        log "watch repeat $rep/$REPEATS (order: $order)"
        for sys in $order; do
            log "  flap $sys"
            "$LG" flap --system "$sys" --addr "$(addr_of "$sys")" --pid "$(pid_of "$sys")" \
                --watchers "$WATCHERS" --instances "$FLAP_INSTANCES" --period-secs 10 \
                --secs "$FLAP_SECS" --grace-secs "$GRACE" --clk-tck "$CLK_TCK" >>"$RES" ||
                log "  flap $sys failed"
        done
    done
    stop_pid "$PC_PID"
    stop_pid "$ETCD_PID"
fi

# --- 3. catalog scale ------------------------------------------------------------------
if want catalog; then
    log "catalog: $NODES nodes, $INSTANCES instances (1,000 of X), fresh durable proconsul and etcd"
    start_proconsul server -1
    start_etcd
    sleep 1
    for sys in proconsul etcd; do
        log "  loading $sys (64 connections)"
        "$LG" catalog-load --system "$sys" --addr "$(addr_of "$sys")" --pid "$(pid_of "$sys")" \
            --nodes "$NODES" --instances "$INSTANCES" --conns 64 >>"$RES" ||
            die "loading $sys failed"
        tail -n 1 "$RES" >&2
    done
    for rep in $(seq 1 "$REPEATS"); do
        order=$(alternate "$rep" etcd proconsul)
        log "catalog repeat $rep/$REPEATS (order: $order)"
        for conns in 1 4; do
            for sys in $order; do
                log "  read X, $conns conn(s), $sys"
                "$LG" catalog-read --system "$sys" --addr "$(addr_of "$sys")" --conns "$conns" \
                    --secs "$READ_SECS" --warmup-ms "$WARM_MS" --label "catalog-read$conns" \
                    >>"$RES" || log "  read $sys failed"
            done
        done
    done
    stop_pid "$PC_PID"
    stop_pid "$ETCD_PID"
fi

echo
echo "command: ${BENCH_QUICK:+BENCH_QUICK=$BENCH_QUICK }bash bench/discovery.sh   date: $(date -u '+%Y-%m-%d %H:%M UTC')"
"$LG" discovery-report "$RES" --load "$LOAD" --cores "$(nproc)"
echo "raw results: $RES"

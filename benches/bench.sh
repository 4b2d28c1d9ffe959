#!/usr/bin/env bash
# Benchmarks for allstacks-cd (issue 6): report overhead against curl on the same loopback
# receiver (plain HTTP and HTTPS with a local CA), detection on a small and a very large git
# repository, binary size, peak RSS and --dry-run latency.
#
# Usage: bash benches/bench.sh            (from anywhere; installs what it needs with apt-get)
#
# Knobs (environment):
#   ROUNDS=5           rounds; the two sides of each comparison alternate round by round
#   RUNS=30            timed runs per command and round (the median over all is reported)
#   WARMUP=3           untimed runs before each command in each round
#   RSS_RUNS=15        runs for the peak-RSS median
#   BIG_COMMITS=100000 commits in the large repository
#   BIG_REFS=20000     refs in its packed-refs (half branches, half annotated tags)
#   CLEAN_BUILD=1      also time a from-scratch `cargo build --release` in a temporary target
#                      dir (several minutes on 2 cores)
#   KEEP=1             keep the scratch directory (repositories, certificates, raw results)
#
# It prints a Markdown table of figures and never fails because a target was missed: the
# targets are reported, not asserted. It does fail when the setup is broken (a report that
# was not delivered, a receiver that does not start), since the figures would then be wrong.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
RSS_RUNS=${RSS_RUNS:-15}
BIG_COMMITS=${BIG_COMMITS:-100000}
BIG_REFS=${BIG_REFS:-20000}
CLEAN_BUILD=${CLEAN_BUILD:-0}
KEEP=${KEEP:-0}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root or sudo to apt-get install $*"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "$* missing and no apt-get: install it by hand"
    if [[ $APT_UPDATED -eq 0 ]]; then
        "${sudo[@]}" apt-get update -qq >&2
        APT_UPDATED=1
    fi
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >&2
}

# need COMMAND PACKAGE: installs PACKAGE when COMMAND is not found.
need() {
    if ! command -v "$1" >/dev/null 2>&1 && [[ ! -x $1 ]]; then
        apt_install "$2"
    fi
}

need hyperfine hyperfine
need curl curl
need git git
need openssl openssl
need /usr/bin/time time
if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
    apt_install nginx-light || apt_install nginx
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v cargo >/dev/null || die "cargo not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/allstacks-cd-bench.XXXXXX")
NGINX_PID=""
cleanup() {
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    if [[ $KEEP == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

now() { date +%s.%N; }
# elapsed START: seconds since START, one decimal.
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
log "cargo build --release"
t0=$(now)
(cd "$ROOT" && cargo build --release --quiet)
BUILD_INCR=$(elapsed "$t0")
BIN=$TARGET_DIR/release/allstacks-cd
[[ -x $BIN ]] || die "no binary at $BIN"
BUILD_CLEAN="not measured (CLEAN_BUILD=1)"
if [[ $CLEAN_BUILD == 1 ]]; then
    log "cargo build --release from scratch (CLEAN_BUILD=1)"
    t0=$(now)
    (cd "$ROOT" && CARGO_TARGET_DIR="$WORK/clean-target" cargo build --release --quiet)
    BUILD_CLEAN="$(elapsed "$t0") s"
    rm -rf "$WORK/clean-target"
fi
VERSION=$("$BIN" --version | awk '{ print $NF }')
HOST=$(rustc -vV | sed -n 's/^host: //p')

# ---------------------------------------------------------------------------------------------
# Receiver: nginx on 127.0.0.1, one worker, answering every request with 201 and
# `Connection: close` (no keep-alive), plain HTTP and TLS with a local CA.
# ---------------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        if port_free "$p"; then echo "$p"; return; fi
    done
    die "no free port"
}
HTTP_PORT=$(pick_port)
HTTPS_PORT=$(pick_port)
[[ $HTTP_PORT != "$HTTPS_PORT" ]] || HTTPS_PORT=$((HTTP_PORT + 1))

log "local CA and server certificate (openssl)"
TLS=$WORK/tls
mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=allstacks-cd bench CA" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    >"$TLS/server.ext"
openssl x509 -req -days 2 -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
    -CAcreateserial -extfile "$TLS/server.ext" -out "$TLS/server.pem" 2>/dev/null

NG=$WORK/nginx
mkdir -p "$NG/tmp"
cat >"$NG/nginx.conf" <<EOF
worker_processes 1;
daemon off;
user root;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    keepalive_timeout 0;
    client_max_body_size 1m;
    default_type application/json;
    server {
        listen 127.0.0.1:$HTTP_PORT;
        location / { return 201 '{"ok":true}'; }
        # GitHub's "get a workflow run", for the start time when GITHUB_TOKEN is set.
        location /api/repos/ { return 200 '{"id":987654321,"run_started_at":"2026-01-01T00:00:00Z"}'; }
    }
    server {
        listen 127.0.0.1:$HTTPS_PORT ssl;
        ssl_certificate $TLS/server.pem;
        ssl_certificate_key $TLS/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 201 '{"ok":true}'; }
    }
}
EOF
log "nginx on 127.0.0.1:$HTTP_PORT (http) and :$HTTPS_PORT (https)"
"$NGINX" -p "$NG" -c "$NG/nginx.conf" 2>>"$NG/error.log" &
NGINX_PID=$!
for _ in $(seq 100); do
    if ! port_free "$HTTP_PORT" && ! port_free "$HTTPS_PORT"; then break; fi
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$NG/error.log" >&2; die "nginx did not start"; }
    sleep 0.05
done
port_free "$HTTP_PORT" && die "nginx is not listening on $HTTP_PORT"

# ---------------------------------------------------------------------------------------------
# Repositories
# ---------------------------------------------------------------------------------------------
export GIT_CONFIG_NOSYSTEM=1
HOME_DIR=$WORK/home
mkdir -p "$HOME_DIR"
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n' >"$HOME_DIR/.gitconfig"
git_() { HOME=$HOME_DIR git "$@"; }

log "small repository (1 commit)"
SMALL=$WORK/small
git_ init -q -b main "$SMALL"
echo hello >"$SMALL/README"
git_ -C "$SMALL" add README
git_ -C "$SMALL" commit -q -m "first"
git_ -C "$SMALL" remote add origin https://github.com/acme/small.git
SMALL_SHA=$(git_ -C "$SMALL" rev-parse HEAD)

log "large repository ($BIG_COMMITS commits, $BIG_REFS refs) with git fast-import"
BIG=$WORK/big
t0=$(now)
git_ init -q -b main "$BIG"
# Commits on main each change one file; half the refs are branches named feature/* (they sort
# before refs/heads/main, so the HEAD lookup walks past them), half annotated tags (their
# peeled `^` lines are in packed-refs too).
awk -v n="$BIG_COMMITS" -v refs="$BIG_REFS" 'BEGIN {
    for (i = 1; i <= n; i++) {
        msg = "commit " i "\n"; body = i "\n"
        printf "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\n", i, 1700000000 + i
        printf "data %d\n%s", length(msg), msg
        printf "M 644 inline counter.txt\ndata %d\n%s\n", length(body), body
    }
    half = int(refs / 2)
    for (j = 1; j <= half; j++) {
        printf "reset refs/heads/feature/%06d\nfrom :%d\n\n", j, 1 + (j * 7) % n
    }
    for (j = 1; j <= refs - half; j++) {
        msg = "release " j "\n"
        printf "tag v%06d\nfrom :%d\ntagger Bench <bench@example.com> %d +0000\n", j, 1 + (j * 13) % n, 1700000000 + j
        printf "data %d\n%s\n", length(msg), msg
    }
}' | git_ -C "$BIG" fast-import --quiet
git_ -C "$BIG" pack-refs --all
git_ -C "$BIG" reset -q --hard main
git_ -C "$BIG" remote add origin https://github.com/acme/big.git
BIG_GEN=$(elapsed "$t0")
BIG_SHA=$(git_ -C "$BIG" rev-parse HEAD)
BIG_COUNT=$(git_ -C "$BIG" rev-list --count HEAD)
PACKED_LINES=$(wc -l <"$BIG/.git/packed-refs")
PACKED_BYTES=$(wc -c <"$BIG/.git/packed-refs")
[[ ! -e $BIG/.git/refs/heads/main ]] || die "refs/heads/main is still loose"
BIG_SHORT=${BIG_SHA:0:12}

# ---------------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------------
TOKEN=bench-token-not-secret
COMPANY=42
# A GitHub Actions step: everything comes from the provider's variables; no GITHUB_TOKEN, so
# no API call.
gh_env() { # gh_env URL SHA
    printf '%s\n' "PATH=$PATH" "HOME=$HOME_DIR" "USER=bench" \
        GITHUB_ACTIONS=true "GITHUB_SHA=$2" GITHUB_REPOSITORY=acme/small \
        GITHUB_REPOSITORY_ID=123456789 GITHUB_RUN_ID=987654321 GITHUB_RUN_ATTEMPT=1 \
        GITHUB_ACTOR=octocat GITHUB_OUTPUT=/dev/null GITHUB_STEP_SUMMARY=/dev/null \
        "ALLSTACKS_URL=$1" "ALLSTACKS_COMPANY_ID=$COMPANY" "ALLSTACKS_TOKEN=$TOKEN" \
        ALLSTACKS_SERVICE_ID=7 ALLSTACKS_STATUS=success
}
# Outside CI: commit, repository and user come from the git repository.
local_env() {
    printf '%s\n' "PATH=$PATH" "HOME=$HOME_DIR" "USER=bench" \
        ALLSTACKS_SERVICE_ID=7 ALLSTACKS_STATUS=success "ALLSTACKS_OUTBOX=$WORK/outbox"
}
# in_env FILE DIR CMD...: runs CMD in DIR with exactly the environment listed in FILE.
in_env() {
    local file=$1 dir=$2
    shift 2
    local vars=()
    mapfile -t vars <"$file"
    (cd "$dir" && env -i "${vars[@]}" "$@")
}
HTTP_URL=http://127.0.0.1:$HTTP_PORT
HTTPS_URL=https://127.0.0.1:$HTTPS_PORT
gh_env "$HTTP_URL" "$SMALL_SHA" >"$WORK/env.http"
gh_env "$HTTPS_URL" "$SMALL_SHA" >"$WORK/env.https"
# The same step with a GITHUB_TOKEN, as the composite action runs it: the start time comes
# from the API (here the same loopback receiver, over http).
{ gh_env "$HTTP_URL" "$SMALL_SHA"; echo GITHUB_TOKEN=bench-gh-token; echo "GITHUB_API_URL=$HTTP_URL/api"; } \
    >"$WORK/env.api"
local_env >"$WORK/env.local"

# The payload curl sends: the one `report --dry-run` prints.
in_env "$WORK/env.http" "$SMALL" "$BIN" report --dry-run >"$WORK/payload.json" 2>/dev/null
ENDPOINT=/webhook/company/$COMPANY/cicd_job

# Sanity: both clients really get a 201 from each receiver before anything is timed.
check_delivered() { # check_delivered ENVFILE ARGS...
    local envf=$1 out
    shift
    out=$(in_env "$envf" "$SMALL" "$BIN" report --output json "$@" 2>"$WORK/check.err") || true
    if [[ $out != *'"delivered":true'* || $out != *'"http_status":201'* ]]; then
        cat "$WORK/check.err" >&2
        die "report was not delivered (got: $out)"
    fi
}
check_delivered "$WORK/env.http"
check_delivered "$WORK/env.https" --ca-cert "$TLS/ca.pem"
check_delivered "$WORK/env.api"
in_env "$WORK/env.api" "$SMALL" "$BIN" report --dry-run 2>&1 >/dev/null | grep -q 'GitHub API run_started_at' \
    || die "the start time did not come from the (local) GitHub API"
CURL_HDRS=(-H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" -A "allstacks-cd/$VERSION")
curl -q -sS -f -o /dev/null -X POST "${CURL_HDRS[@]}" --data-binary "@$WORK/payload.json" "$HTTP_URL$ENDPOINT" \
    || die "curl could not post to the http receiver"
curl -q -sS -f -o /dev/null -X POST "${CURL_HDRS[@]}" --cacert "$TLS/ca.pem" \
    --data-binary "@$WORK/payload.json" "$HTTPS_URL$ENDPOINT" \
    || die "curl could not post to the https receiver"
in_env "$WORK/env.local" "$BIG" "$BIN" report --dry-run 2>/dev/null | grep -q "\"$BIG_SHA\"" \
    || die "dry run in the large repository did not find its HEAD"

# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------
RES=$WORK/results
mkdir -p "$RES"
# bench NAME ENVFILE DIR COMMAND: hyperfine without a shell (-N), median in seconds to
# $RES/NAME.median. Every command of one group uses the same environment, so curl and the
# binary see the same variables (curl ignores ALLSTACKS_*/GITHUB_*; HOME has no .curlrc and
# -q skips it anyway).
bench() {
    local name=$1 envf=$2 dir=$3 cmd=$4
    log "timing $name"
    in_env "$envf" "$dir" hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" \
        --export-csv "$RES/$name.csv" --command-name "$name" "$cmd" >"$RES/$name.log" 2>&1 \
        || { cat "$RES/$name.log" >&2; die "hyperfine failed for $name"; }
    awk -F, 'NR == 2 { print $4 }' "$RES/$name.csv" >"$RES/$name.median"
}
# The two sides of each comparison are timed interleaved, in rounds, so drift (another job on
# the machine, CPU frequency) hits both alike; the median is taken over all rounds.
bench_pair() { # bench_pair NAME_A ENVF_A DIR_A CMD_A NAME_B ENVF_B DIR_B CMD_B
    local r
    for r in $(seq "$ROUNDS"); do
        bench "$1.$r" "$2" "$3" "$4"
        bench "$5.$r" "$6" "$7" "$8"
    done
}
# median of all rounds' medians (good enough: each round has the same number of runs)
med() { # med NAME -> milliseconds
    cat "$RES/$1".*.median | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m * 1000 }'
}

P=$WORK/payload.json
bench_pair \
    report_http "$WORK/env.http" "$SMALL" "$BIN report" \
    curl_http "$WORK/env.http" "$SMALL" \
    "curl -q -sS -f -o /dev/null -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer $TOKEN' -A allstacks-cd/$VERSION --data-binary @$P $HTTP_URL$ENDPOINT"
bench_pair \
    report_https "$WORK/env.https" "$SMALL" "$BIN report --ca-cert $TLS/ca.pem" \
    curl_https "$WORK/env.https" "$SMALL" \
    "curl -q -sS -f -o /dev/null -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer $TOKEN' -A allstacks-cd/$VERSION --cacert $TLS/ca.pem --data-binary @$P $HTTPS_URL$ENDPOINT"
bench_pair \
    report_api "$WORK/env.api" "$SMALL" "$BIN report" \
    report_noapi "$WORK/env.http" "$SMALL" "$BIN report"
bench_pair \
    dry_small "$WORK/env.local" "$SMALL" "$BIN report --dry-run" \
    dry_big "$WORK/env.local" "$BIG" "$BIN report --dry-run"
bench_pair \
    dry_small_short "$WORK/env.local" "$SMALL" "$BIN report --dry-run --commit-sha ${SMALL_SHA:0:12}" \
    dry_big_short "$WORK/env.local" "$BIG" "$BIN report --dry-run --commit-sha $BIG_SHORT"
bench_pair \
    dry_gh "$WORK/env.http" "$SMALL" "$BIN report --dry-run" \
    version "$WORK/env.http" "$SMALL" "$BIN --version"

# ---------------------------------------------------------------------------------------------
# Footprint
# ---------------------------------------------------------------------------------------------
# rss ENVFILE DIR CMD...: median peak RSS in KiB over RSS_RUNS runs.
rss() {
    local envf=$1 dir=$2
    shift 2
    local i
    for i in $(seq "$RSS_RUNS"); do
        in_env "$envf" "$dir" /usr/bin/time -f %M -o "$RES/rss.$i" "$@" >/dev/null 2>&1 || true
        tail -n 1 "$RES/rss.$i"
    done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
log "peak RSS"
RSS_HTTP=$(rss "$WORK/env.http" "$SMALL" "$BIN" report)
RSS_HTTPS=$(rss "$WORK/env.https" "$SMALL" "$BIN" report --ca-cert "$TLS/ca.pem")
RSS_DRY_BIG=$(rss "$WORK/env.local" "$BIG" "$BIN" report --dry-run)
RSS_CURL=$(rss "$WORK/env.https" "$SMALL" curl -q -sS -f -o /dev/null -X POST "${CURL_HDRS[@]}" \
    --cacert "$TLS/ca.pem" --data-binary "@$P" "$HTTPS_URL$ENDPOINT")

SIZE=$(stat -c %s "$BIN")
STRIPPED=unknown
if command -v readelf >/dev/null; then
    if readelf -S "$BIN" | grep -q '\.symtab'; then STRIPPED=no; else STRIPPED=yes; fi
fi
MUSL="not measured: no musl target installed (rustup target add x86_64-unknown-linux-musl needs the network)"
if rustup target list --installed 2>/dev/null | grep -q 'x86_64-unknown-linux-musl'; then
    log "cargo build --release --target x86_64-unknown-linux-musl"
    if (cd "$ROOT" && cargo build --release --quiet --target x86_64-unknown-linux-musl); then
        MUSL="$(stat -c %s "$TARGET_DIR/x86_64-unknown-linux-musl/release/allstacks-cd") bytes"
    else
        MUSL="build failed"
    fi
fi

# ---------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { # verdict VALUE OP LIMIT
    if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "<=") ? v <= l : v < l) }'; then
        echo met
    else
        echo MISSED
    fi
}
mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
kib_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

R_HTTP=$(med report_http); C_HTTP=$(med curl_http)
R_HTTPS=$(med report_https); C_HTTPS=$(med curl_https)
R_API=$(med report_api); R_NOAPI=$(med report_noapi)
D_SMALL=$(med dry_small); D_BIG=$(med dry_big)
D_SMALL_S=$(med dry_small_short); D_BIG_S=$(med dry_big_short)
D_GH=$(med dry_gh); V=$(med version)
X_HTTP=$(ratio "$R_HTTP" "$C_HTTP"); X_HTTPS=$(ratio "$R_HTTPS" "$C_HTTPS")
X_BIG=$(ratio "$D_BIG" "$D_SMALL"); X_BIG_S=$(ratio "$D_BIG_S" "$D_SMALL_S")
SIZE_MB=$(mb "$SIZE")

cat <<EOF

## allstacks-cd $VERSION benchmark

machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
toolchain: $(rustc -V), host $HOST
tools: $(hyperfine --version), $(curl --version | head -n 1 | cut -d' ' -f1-2), $("$NGINX" -v 2>&1 | sed 's/.*: //')
date: $(date -u +%Y-%m-%dT%H:%MZ)
runs: $ROUNDS rounds x $RUNS runs (+$WARMUP warm-up) per command, interleaved; peak RSS over $RSS_RUNS runs
build: cargo build --release (incremental, as run) $BUILD_INCR s; from scratch: $BUILD_CLEAN
large repo: $BIG_COUNT commits, packed-refs $PACKED_LINES lines / $PACKED_BYTES bytes, generated in $BIG_GEN s

| # | figure | allstacks-cd | reference | ratio | target | |
|---|---|---|---|---|---|---|
| 1 | report over http, median | $R_HTTP ms | curl $C_HTTP ms | $X_HTTP | <= 1.5x curl | $(verdict "$X_HTTP" "<=" 1.5) |
| 1 | report over https (local CA), median | $R_HTTPS ms | curl $C_HTTPS ms | $X_HTTPS | (reported) | |
| 1 | report over http with GITHUB_TOKEN (start time from the API, same receiver) | $R_API ms | without token $R_NOAPI ms | $(ratio "$R_API" "$R_NOAPI") | (reported) | |
| 2 | report --dry-run, $BIG_COUNT-commit repo vs 1-commit repo (local env) | $D_BIG ms | $D_SMALL ms | $X_BIG | <= 1.2x | $(verdict "$X_BIG" "<=" 1.2) |
| 2 | same, with --commit-sha <12-hex short SHA> (git2 lookup) | $D_BIG_S ms | $D_SMALL_S ms | $X_BIG_S | (reported) | |
| 3 | release binary, stripped ($STRIPPED), $HOST | $SIZE_MB MB ($SIZE bytes) | | | <= 6 MB | $(verdict "$SIZE_MB" "<=" 6) |
| 3 | musl binary | $MUSL | | | | |
| 3 | peak RSS, report over http | $(kib_mb "$RSS_HTTP") MB | | | <= 15 MB | $(verdict "$(kib_mb "$RSS_HTTP")" "<=" 15) |
| 3 | peak RSS, report over https | $(kib_mb "$RSS_HTTPS") MB | curl $(kib_mb "$RSS_CURL") MB | | <= 15 MB | $(verdict "$(kib_mb "$RSS_HTTPS")" "<=" 15) |
| 3 | peak RSS, report --dry-run in the $BIG_COUNT-commit repo | $(kib_mb "$RSS_DRY_BIG") MB | | | | |
| 4 | report --dry-run (GitHub env), median | $D_GH ms | --version $V ms | | < 10 ms | $(verdict "$D_GH" "<" 10) |

reproduce: bash benches/bench.sh   (RUNS=$RUNS ROUNDS=$ROUNDS BIG_COMMITS=$BIG_COMMITS BIG_REFS=$BIG_REFS)
EOF

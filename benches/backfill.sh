#!/usr/bin/env bash
# Benchmark of `allstacks-cd backfill github-runs` (issue 14): 1,000 and 10,000 completed runs
# from a fake GitHub API on 127.0.0.1 (pages of 100, `Link: rel="next"`, run objects the size
# of GitHub's) into a receiver on 127.0.0.1 that answers 201 at once. Prints jobs/s and peak
# RSS for both sizes, and the time of a re-run that finds everything in the ledger.
#
# Usage: bash benches/backfill.sh      (from anywhere; installs GNU time with apt-get if needed)
#
# Knobs (environment):
#   SIZES="1000 10000"   runs served, one measurement set per size
#   RUNS=3               runs per size (the median is reported)
#   CONCURRENCY=4        --concurrency
#   KEEP=1               keep the scratch directory
#
# Targets (spec/backfill.md): 10,000 runs in under 20 s (at least 500 jobs/s) on the 2-core
# machine, peak RSS under 40 MB and flat between 1,000 and 10,000. They are reported, not
# asserted; the script fails only when the setup is broken (a job not delivered).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZES=${SIZES:-"1000 10000"}
RUNS=${RUNS:-3}
CONCURRENCY=${CONCURRENCY:-4}
KEEP=${KEEP:-0}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'backfill.sh: %s\n' "$*" >&2; exit 1; }

if [[ ! -x /usr/bin/time ]]; then
    command -v apt-get >/dev/null || die "GNU time (/usr/bin/time) missing and no apt-get"
    log "installing GNU time"
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq time >&2
fi
command -v python3 >/dev/null || die "python3 not found"
command -v cargo >/dev/null || die "cargo not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/allstacks-cd-backfill-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log "cargo build --release"
(cd "$ROOT" && cargo build --release --locked --quiet)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/allstacks-cd
[[ -x $BIN ]] || die "no binary at $BIN"

# The fake GitHub API and the receiver, in one Python process (HTTP/1.1 keep-alive, a thread
# per connection). Pages are built once, before the port is announced.
cat >"$WORK/server.py" <<'PY'
import json, socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOTAL = int(sys.argv[1])
T0 = 1_709_287_200  # 2024-03-01T10:00:00Z
PAGE = 100
received = 0
lock = threading.Lock()

def iso(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

def run(i):
    created = T0 + i * 60
    repo = {"id": 4242, "node_id": "R_kgDOAAAAAA", "name": "web", "full_name": "acme/web",
            "private": True, "owner": {"login": "acme", "id": 1, "type": "Organization",
            "url": "https://api.github.com/users/acme", "html_url": "https://github.com/acme"},
            "html_url": "https://github.com/acme/web", "description": "The web app", "fork": False}
    repo.update({k + "_url": "https://api.github.com/repos/acme/web/" + k for k in (
        "forks keys collaborators teams hooks issue_events events assignees branches tags blobs "
        "git_tags git_refs trees statuses languages stargazers contributors subscribers "
        "subscription commits git_commits comments issue_comment contents compare merges "
        "archive downloads issues pulls milestones notifications labels releases deployments"
    ).split()})
    return {
        "id": i, "name": "Deploy", "node_id": "WFR_kwLOAAAA", "head_branch": "main",
        "head_sha": format(0xABC00000 + i, "040x"), "path": ".github/workflows/deploy.yml",
        "display_title": "Release " + str(i), "run_number": i, "event": "push",
        "status": "completed", "conclusion": "success" if i % 10 else "failure",
        "workflow_id": 99, "check_suite_id": 1000 + i, "check_suite_node_id": "CS_kwDO",
        "url": "https://api.github.com/repos/acme/web/actions/runs/%d" % i,
        "html_url": "https://github.com/acme/web/actions/runs/%d" % i,
        "pull_requests": [], "created_at": iso(created), "updated_at": iso(created + 125),
        "actor": {"login": "octo", "id": 2, "type": "User"}, "run_attempt": 1,
        "referenced_workflows": [], "run_started_at": iso(created + 5),
        "triggering_actor": {"login": "octo", "id": 2, "type": "User"},
        "jobs_url": "https://api.github.com/repos/acme/web/actions/runs/%d/jobs" % i,
        "logs_url": "https://api.github.com/repos/acme/web/actions/runs/%d/logs" % i,
        "head_commit": {"id": format(0xABC00000 + i, "040x"), "message": "Release %d\n\nNotes." % i,
                        "timestamp": iso(created), "author": {"name": "Dev", "email": "dev@example.com"},
                        "committer": {"name": "Dev", "email": "dev@example.com"}},
        "repository": repo, "head_repository": repo,
    }

pages = []
for p in range((TOTAL + PAGE - 1) // PAGE):
    ids = range(TOTAL - p * PAGE, max(TOTAL - (p + 1) * PAGE, 0), -1)
    pages.append(json.dumps({"total_count": TOTAL, "workflow_runs": [run(i) for i in ids]}).encode())
REPO = json.dumps({"id": 4242, "full_name": "acme/web"}).encode()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        # Without it, the body (a second write) waits for the client's delayed ACK: 40 ms a
        # request, which would measure the kernel, not the tool.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def log_message(self, *a): pass
    def send(self, code, body, headers=()):
        head = ["HTTP/1.1 %d X" % code, "Content-Type: application/json",
                "Content-Length: %d" % len(body)] + ["%s: %s" % kv for kv in headers]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/repos/acme/web":
            return self.send(200, REPO)
        if path == "/count":
            return self.send(200, str(received).encode())
        if path.endswith("/runs"):
            q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
            page = int(q.get("page", "1"))
            headers = [("X-RateLimit-Remaining", "4999")]
            if page < len(pages):
                base = "http://%s%s?per_page=100" % (self.headers["Host"], path)
                headers.append(("Link", '<%s&page=%d>; rel="next"' % (base, page + 1)))
            return self.send(200, pages[page - 1] if page <= len(pages) else b'{"workflow_runs":[]}', headers)
        self.send(404, b'{"message":"Not Found"}')
    def do_POST(self):
        global received
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            received += 1
        self.send(201, b'{"ok":true}')

server = ThreadingHTTPServer(("127.0.0.1", 0), H)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
PY

# count URL: the POSTs the receiver has answered so far.
count() { python3 -c "import urllib.request, sys; print(urllib.request.urlopen(sys.argv[1] + '/count').read().decode())" "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A RATE RSS SECS AGAIN CPU
for n in $SIZES; do
    log "fake API with $n runs"
    python3 "$WORK/server.py" "$n" >"$WORK/port" 2>"$WORK/server.err" &
    SERVER_PID=$!
    for _ in $(seq 200); do [[ -s $WORK/port ]] && break; sleep 0.05; done
    PORT=$(head -n 1 "$WORK/port")
    [[ -n $PORT ]] || { cat "$WORK/server.err" >&2; die "the fake API did not start"; }
    URL=http://127.0.0.1:$PORT
    : >"$WORK/secs.$n"; : >"$WORK/rss.$n"; : >"$WORK/again.$n"; : >"$WORK/cpu.$n"
    for r in $(seq "$RUNS"); do
        STATE=$WORK/state.$n.$r
        before=$(count "$URL")
        bench_env=(env -i PATH="$PATH" HOME="$WORK" XDG_STATE_HOME="$STATE"
            ALLSTACKS_URL="$URL" ALLSTACKS_COMPANY_ID=42 ALLSTACKS_TOKEN=bench-token ALLSTACKS_SERVICE_ID=7
            GITHUB_API_URL="$URL" GITHUB_TOKEN=bench-gh-token)
        cmd=("$BIN" backfill github-runs --repo acme/web --workflow deploy.yml --concurrency "$CONCURRENCY" --output json)
        "${bench_env[@]}" /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "${cmd[@]}" >"$WORK/out.json" 2>"$WORK/err" \
            || { cat "$WORK/err" >&2; die "backfill of $n runs failed"; }
        grep -q "\"sent\":$n," "$WORK/out.json" || { cat "$WORK/out.json" "$WORK/err" >&2; die "not all $n runs were sent"; }
        after=$(count "$URL")
        [[ $((after - before)) -eq $n ]] || die "the receiver got $((after - before)) POSTs, not $n"
        read -r secs kib user sys < <(tail -n 1 "$WORK/time")
        echo "$secs" >>"$WORK/secs.$n"
        awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f\n", u + s }' >>"$WORK/cpu.$n"
        echo "$kib" >>"$WORK/rss.$n"
        # The same backfill again: everything is in the ledger, nothing is sent.
        "${bench_env[@]}" /usr/bin/time -f "%e %M" -o "$WORK/time" "${cmd[@]}" >"$WORK/out.json" 2>"$WORK/err" \
            || { cat "$WORK/err" >&2; die "the re-run of $n runs failed"; }
        grep -q "\"already_sent\":$n," "$WORK/out.json" || die "the re-run did not find all $n in the ledger"
        tail -n 1 "$WORK/time" | cut -d' ' -f1 >>"$WORK/again.$n"
        log "$n runs, round $r: $secs s, $kib KiB"
    done
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    SECS[$n]=$(median <"$WORK/secs.$n")
    RSS[$n]=$(median <"$WORK/rss.$n")
    AGAIN[$n]=$(median <"$WORK/again.$n")
    CPU[$n]=$(median <"$WORK/cpu.$n")
    RATE[$n]=$(awk -v n="$n" -v s="${SECS[$n]}" 'BEGIN { printf "%.0f", n / s }')
done

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
cat <<EOF

## allstacks-cd backfill benchmark

machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
toolchain: $(rustc -V); $(python3 -V) fake API and receiver (HTTP/1.1 keep-alive)
date: $(date -u +%Y-%m-%dT%H:%MZ)
command: allstacks-cd backfill github-runs --repo acme/web --workflow deploy.yml --concurrency $CONCURRENCY --output json
runs: median of $RUNS per size, each with a fresh ledger

| runs | time | jobs/s | CPU (user + sys) | peak RSS | re-run (all in the ledger) |
|---|---|---|---|---|---|
EOF
for n in $SIZES; do
    echo "| $n | ${SECS[$n]} s | ${RATE[$n]} | ${CPU[$n]} s | $(mb "${RSS[$n]}") MB | ${AGAIN[$n]} s |"
done
echo
echo "targets: 10,000 runs in < 20 s (>= 500 jobs/s), peak RSS < 40 MB and flat between sizes"

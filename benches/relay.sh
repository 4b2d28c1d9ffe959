#!/usr/bin/env bash
# Load benchmark of `allstacks-cd serve` (spec/relay.md, "Load and faults"; BENCHMARKS.md,
# "The relay"): 2,000 signed GitHub deployment_status deliveries, 50 at a time, to the release
# binary, with a loopback receiver answering 201 at once. The load client is
# benches/relay_load.rs; this script builds, runs it RUNS times, and prints its tables.
#
# Usage: bash benches/relay.sh
#
# Knobs (environment):
#   RUNS=3          runs of each case
#   N=2000, C=50    deliveries and concurrency
#   DOWN=1          also run with Allstacks down the whole time (the answer path alone)
#   ATTACK=0        skip the run under attack (300 idle reconnecting sockets and 50 trickled
#                   bodies from other loopback addresses: spec/relay-production.md)
#   FRESH_EXT4=1    also run with the queue on a new, empty ext4 file system (a 2 GiB image on
#                   a loop device, like a new PersistentVolume); needs root and mkfs.ext4
#
# Only loopback addresses are used (127.0.0.1; the attackers 127.0.0.2 to .11), and every run
# stops by itself within about a minute.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
export N=${N:-2000} C=${C:-50}

log() { printf '==> %s\n' "$*" >&2; }

log "cargo build --release (the binary under test) and the load client"
cargo build --release --locked >&2
cargo bench --locked --bench relay_load --no-run >&2
ls -l target/release/allstacks-cd >&2

run() {
    local what=$1
    shift
    for i in $(seq 1 "$RUNS"); do
        log "$what, run $i/$RUNS (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
        env "$@" cargo bench --locked --bench relay_load 2>&1 | grep -E '^\||CPU time'
    done
}

run "queue in $(dirname "$(mktemp -u)")" DOWN=0
if [[ ${ATTACK:-1} == 1 ]]; then
    run "under attack, queue in $(dirname "$(mktemp -u)")" DOWN=0 ATTACK=1
fi
if [[ ${DOWN:-0} == 1 ]]; then
    run "Allstacks down" DOWN=1
fi
if [[ ${FRESH_EXT4:-0} == 1 ]]; then
    img=$(mktemp "${TMPDIR:-/tmp}/relay-ext4.XXXXXX")
    mnt=$(mktemp -d "${TMPDIR:-/tmp}/relay-mnt.XXXXXX")
    cleanup() { umount "$mnt" 2>/dev/null || true; rm -rf "$img" "$mnt"; }
    trap cleanup EXIT
    truncate -s 2G "$img"
    mkfs.ext4 -q -F "$img"
    mount -o loop "$img" "$mnt"
    run "queue on a new ext4 file system" DOWN=0 QUEUE_DIR="$mnt/queue"
fi

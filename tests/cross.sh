#!/usr/bin/env bash
# The release targets that can be checked on a Linux machine, so that a `#[cfg(unix)]` slip
# breaks CI, not the tag:
#
#   - x86_64-pc-windows-gnu: `cargo check`, warnings as errors (Debian's mingw-w64 compiles the C dependencies:
#     ring, libgit2, zlib). The release builds x86_64-pc-windows-msvc; the Rust code and its
#     cfgs are the same, only the linker differs.
#   - x86_64-unknown-linux-musl: `cargo build` of the binary (musl-tools), which must run and
#     be static (no ELF interpreter), as the Linux release archives and the image need.
#
# macOS needs Apple's SDK for the C dependencies and cannot be checked here.
#
#   bash tests/cross.sh
#
# Installs what is missing: the targets' standard libraries with rustup, gcc-mingw-w64-x86-64
# and musl-tools with apt (sudo when not root). Last line: `N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WINDOWS=x86_64-pc-windows-gnu
MUSL=x86_64-unknown-linux-musl
passed=0
failed=0

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

step() { # DESC CMD...: runs CMD, counts it, prints its time
    local desc=$1 start=$SECONDS
    shift
    if "$@"; then
        passed=$((passed + 1))
        printf 'ok - %s (%ss)\n' "$desc" "$((SECONDS - start))"
    else
        failed=$((failed + 1))
        printf 'FAIL - %s (%ss)\n' "$desc" "$((SECONDS - start))"
    fi
}

install() {
    local installed missing=() target
    installed=$(rustup target list --installed)
    for target in "$WINDOWS" "$MUSL"; do
        if ! grep -qx "$target" <<<"$installed"; then
            rustup target add "$target" || return 1
        fi
    done
    command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64)
    command -v musl-gcc >/dev/null 2>&1 || missing+=(musl-tools)
    if [ "${#missing[@]}" -gt 0 ]; then
        printf '# installing %s with apt-get\n' "${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
            { as_root apt-get update -qq >/dev/null &&
                as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
    fi
}

static_musl_binary_runs() {
    local bin="target/$MUSL/debug/allstacks-cd" version
    version=$("$bin" --version) || return 1
    [ "$version" = "allstacks-cd $(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)" ] ||
        { echo "$bin --version says: $version"; return 1; }
    if readelf -l "$bin" | grep -q INTERP; then
        echo "$bin is dynamically linked: $(readelf -l "$bin" | grep -A1 INTERP)"
        return 1
    fi
}

step "install the targets ($WINDOWS, $MUSL) and their C compilers" install
# Warnings are errors: code left unused on Windows by a cfg(unix) is such a slip too.
step "cargo check --locked --target $WINDOWS (lib and binary; warnings are errors)" \
    env CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-D warnings" \
    cargo check --quiet --locked --target "$WINDOWS" --lib --bins
step "cargo build --locked --target $MUSL --bin allstacks-cd" \
    cargo build --quiet --locked --target "$MUSL" --bin allstacks-cd
step "the musl binary runs (--version) and is static (no ELF interpreter)" static_musl_binary_runs
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]

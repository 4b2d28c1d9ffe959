#!/bin/sh
# The install shell of the GitLab CI template (.gitlab-ci-template.yml) and of the CI/CD
# component (templates/allstacks-cd.yml): one source, two copies. Edit it here, then run
#
#   python3 scripts/sync-gitlab-install.py
#
# which copies everything below the cut line into both YAML files, between their
# "# BEGIN scripts/gitlab-install.sh" and "# END ..." lines. The e2e lint group
# (tests/e2e/run.sh) fails when a copy differs from this file.
#
# POSIX sh. It only defines functions (and the variable they share): `allstacks_cd_install`
# puts allstacks-cd on PATH or returns non-zero after saying why; `allstacks_cd_cleanup`
# removes what it downloaded.
# ---8<---
_acd_dir=
allstacks_cd_fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    echo "allstacks-cd: neither curl nor wget is installed" >&2
    return 1
  fi
}
allstacks_cd_sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    echo "allstacks-cd: neither sha256sum nor shasum is installed" >&2
    return 1
  fi
}
# A binary already on PATH (the job's image) is used as is. Otherwise the release asset
# is downloaded into a new directory private to this job (mktemp -d: mode 700, a random
# name) and checked against its published SHA-256 before it is unpacked. Nothing is kept
# for later jobs: on a shell runner the temp directory is shared with every other
# project's jobs, so no binary at a fixed path there can be trusted.
allstacks_cd_install() {
  if command -v allstacks-cd >/dev/null 2>&1; then
    return 0
  fi
  _acd_version="${ALLSTACKS_CD_VERSION#v}"
  if [ -z "$_acd_version" ]; then
    echo "allstacks-cd: ALLSTACKS_CD_VERSION is not set; cannot tell which release to download" >&2
    return 1
  fi
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/amd64) _acd_target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) _acd_target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) _acd_target=x86_64-apple-darwin ;;
    Darwin/arm64) _acd_target=aarch64-apple-darwin ;;
    *)
      echo "allstacks-cd: no prebuilt binary for $(uname -s)/$(uname -m); put allstacks-cd on PATH" >&2
      return 1
      ;;
  esac
  _acd_asset="allstacks-cd-${_acd_version}-${_acd_target}.tar.gz"
  _acd_base="${ALLSTACKS_CD_DOWNLOAD_URL:-https://github.com/allstacks-cd/allstacks-cd/releases/download}"
  _acd_base="${_acd_base%/}/v${_acd_version}"
  allstacks_cd_cleanup
  if ! _acd_dir=$(mktemp -d) || [ -z "$_acd_dir" ]; then
    echo "allstacks-cd: cannot create a temporary directory" >&2
    _acd_dir=
    return 1
  fi
  echo "allstacks-cd: downloading $_acd_base/$_acd_asset"
  if ! allstacks_cd_fetch "$_acd_base/$_acd_asset" "$_acd_dir/$_acd_asset"; then
    echo "allstacks-cd: could not download $_acd_base/$_acd_asset" >&2
    allstacks_cd_cleanup
    return 1
  fi
  _acd_expected=
  if allstacks_cd_fetch "$_acd_base/$_acd_asset.sha256" "$_acd_dir/sum" 2>/dev/null; then
    _acd_expected=$(head -n 1 "$_acd_dir/sum" | cut -d ' ' -f 1)
  elif allstacks_cd_fetch "$_acd_base/SHA256SUMS" "$_acd_dir/sum" 2>/dev/null; then
    _acd_expected=$(awk -v a="$_acd_asset" '{ f = $2; sub(/^\*/, "", f) } f == a { print $1; exit }' "$_acd_dir/sum")
  fi
  _acd_actual=$(allstacks_cd_sha256 "$_acd_dir/$_acd_asset") || _acd_actual=
  _acd_expected=$(printf '%s' "$_acd_expected" | tr -d '\r' | tr '[:upper:]' '[:lower:]')
  if [ -z "$_acd_expected" ] || [ "$_acd_expected" != "$_acd_actual" ]; then
    echo "allstacks-cd: checksum mismatch for $_acd_asset: expected '${_acd_expected:-no checksum published}', got '$_acd_actual'; not installed" >&2
    allstacks_cd_cleanup
    return 1
  fi
  if ! {
    mkdir "$_acd_dir/x" "$_acd_dir/bin" &&
      tar -xzf "$_acd_dir/$_acd_asset" -C "$_acd_dir/x" &&
      _acd_found=$(find "$_acd_dir/x" -type f -name allstacks-cd | head -n 1) &&
      [ -n "$_acd_found" ] &&
      cp "$_acd_found" "$_acd_dir/bin/allstacks-cd" &&
      chmod 755 "$_acd_dir/bin/allstacks-cd"
  }; then
    echo "allstacks-cd: could not unpack $_acd_asset" >&2
    allstacks_cd_cleanup
    return 1
  fi
  rm -rf "${_acd_dir:?}/x" "${_acd_dir:?}/$_acd_asset" "${_acd_dir:?}/sum"
  PATH="$_acd_dir/bin:$PATH"
  export PATH
}
allstacks_cd_cleanup() {
  if [ -n "$_acd_dir" ]; then
    rm -rf "$_acd_dir"
    _acd_dir=
  fi
}

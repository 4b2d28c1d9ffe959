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
# removes what it installed.
# ---8<---
_acd_dir=
# Succeeds when the headers wget -S printed to file $1 show a redirect to plain http: wget
# cannot be kept on https, so what it fetched that way is thrown away by the caller.
allstacks_cd_downgraded() {
  grep -qi '^ *location: *http://' "$1"
}
allstacks_cd_fetch() {
  if command -v curl >/dev/null 2>&1; then
    # An https URL stays https, redirects included.
    case $1 in
      https://*) curl -fsSL --proto =https --retry 3 --connect-timeout 20 -o "$2" "$1" ;;
      *) curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1" ;;
    esac
  elif command -v wget >/dev/null 2>&1; then
    case $1 in
      https://*)
        # -S prints every hop's headers.
        _acd_rc=0
        wget -q -S -O "$2" "$1" 2>"$2.headers" || _acd_rc=$?
        if allstacks_cd_downgraded "$2.headers"; then
          rm -f "$2" "$2.headers"
          echo "allstacks-cd: $1 was redirected to plain http; not used" >&2
          return 1
        fi
        grep -v '^  ' "$2.headers" >&2 || :
        rm -f "$2.headers"
        return "$_acd_rc"
        ;;
      *) wget -q -O "$2" "$1" ;;
    esac
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
# Succeeds for an https URL, or an http URL to this machine (127.x.y.z, localhost, [::1]: a
# local mirror). Plain http to another host could be changed on the way, checksum included.
allstacks_cd_url_ok() {
  _acd_url=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
  case $_acd_url in
    https://*) return 0 ;;
    http://*) ;;
    *) return 1 ;;
  esac
  _acd_host=${_acd_url#http://}
  _acd_host=${_acd_host%%/*}
  case $_acd_host in
    *@*) return 1 ;;
    '[::1]' | '[::1]:'*) return 0 ;;
  esac
  _acd_host=${_acd_host%%:*}
  case $_acd_host in
    localhost) return 0 ;;
    '' | *[!0-9.]*) return 1 ;;
    127.*) return 0 ;;
  esac
  return 1
}
# Puts the executable $1 on PATH as allstacks-cd: a link in a new directory private to this
# job, first on PATH.
allstacks_cd_use() {
  allstacks_cd_cleanup
  case $1 in
    /*) _acd_target=$1 ;;
    *) _acd_target="$PWD/$1" ;;
  esac
  if ! _acd_dir=$(mktemp -d) || [ -z "$_acd_dir" ] ||
    ! mkdir "$_acd_dir/bin" || ! ln -s "$_acd_target" "$_acd_dir/bin/allstacks-cd"; then
    echo "allstacks-cd: cannot create a temporary directory" >&2
    allstacks_cd_cleanup
    return 1
  fi
  PATH="$_acd_dir/bin:$PATH"
  export PATH
}
# No binary is run that this job did not choose or verify. ALLSTACKS_CD_BINARY (a path, or a
# command on PATH) names one explicitly. ALLSTACKS_CD_IMAGE_BINARY names the one in the job's
# image (the component sets it): used when it is there, no other user can have written it,
# and it says it is the release being installed. Otherwise the release asset is downloaded into a new directory private to this
# job (mktemp -d: mode 700, a random name) and checked against its SHA-256 (ALLSTACKS_CD_SHA256
# when set, else the checksum published beside it) before it is unpacked. An `allstacks-cd`
# found on PATH is never run: on a shell runner ~/.local/bin and the temp directory are shared
# with every other project's jobs. Nothing is kept for later jobs.
allstacks_cd_install() {
  if [ -n "${ALLSTACKS_CD_BINARY:-}" ]; then
    case $ALLSTACKS_CD_BINARY in
      */*) _acd_bin=$ALLSTACKS_CD_BINARY ;;
      *) _acd_bin=$(command -v "$ALLSTACKS_CD_BINARY") || _acd_bin= ;;
    esac
    if [ -z "$_acd_bin" ] || [ ! -f "$_acd_bin" ] || [ ! -x "$_acd_bin" ]; then
      echo "allstacks-cd: ALLSTACKS_CD_BINARY=$ALLSTACKS_CD_BINARY is not an executable file or a command on PATH" >&2
      return 1
    fi
    echo "allstacks-cd: using $_acd_bin (ALLSTACKS_CD_BINARY)"
    allstacks_cd_use "$_acd_bin"
    return
  fi
  _acd_version="${ALLSTACKS_CD_VERSION#v}"
  case $_acd_version in
    '')
      echo "allstacks-cd: ALLSTACKS_CD_VERSION is not set; cannot tell which release to download" >&2
      return 1
      ;;
    *[!A-Za-z0-9.+_-]*)
      echo "allstacks-cd: ALLSTACKS_CD_VERSION is not a version number" >&2
      return 1
      ;;
  esac
  _acd_image_bin=${ALLSTACKS_CD_IMAGE_BINARY:-}
  if [ -n "$_acd_image_bin" ] && [ -f "$_acd_image_bin" ] && [ -x "$_acd_image_bin" ]; then
    # Not even asked for its version unless no other user can have put it there or changed
    # it: owned by root (as an image's /usr/local/bin is) or by this user, and writable by
    # neither group nor others.
    if [ -z "$(find "$_acd_image_bin" -prune \( -user 0 -o -user "$(id -u)" \) ! -perm -020 ! -perm -002 2>/dev/null)" ]; then
      echo "allstacks-cd: not running $_acd_image_bin: it is not owned by root or this user, or others can write to it; downloading the release"
    elif [ "$("$_acd_image_bin" --version 2>/dev/null)" = "allstacks-cd $_acd_version" ]; then
      echo "allstacks-cd: using $_acd_image_bin from the job's image (allstacks-cd $_acd_version)"
      allstacks_cd_use "$_acd_image_bin"
      return
    else
      echo "allstacks-cd: $_acd_image_bin is not allstacks-cd $_acd_version; downloading that release"
    fi
  fi
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/amd64) _acd_target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) _acd_target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) _acd_target=x86_64-apple-darwin ;;
    Darwin/arm64) _acd_target=aarch64-apple-darwin ;;
    *)
      echo "allstacks-cd: no prebuilt binary for $(uname -s)/$(uname -m); set ALLSTACKS_CD_BINARY to a binary of yours" >&2
      return 1
      ;;
  esac
  _acd_asset="allstacks-cd-${_acd_version}-${_acd_target}.tar.gz"
  _acd_base="${ALLSTACKS_CD_DOWNLOAD_URL:-https://github.com/allstacks-cd/allstacks-cd/releases/download}"
  if ! allstacks_cd_url_ok "$_acd_base"; then
    echo "allstacks-cd: ALLSTACKS_CD_DOWNLOAD_URL must be an https URL (or http to this machine: 127.0.0.1," \
      "localhost, [::1]), got '$_acd_base': over plain http the binary and its checksum could be changed" \
      "on the way; not installed" >&2
    return 1
  fi
  _acd_base="${_acd_base%/}/v${_acd_version}"
  _acd_pinned=$(printf '%s' "${ALLSTACKS_CD_SHA256:-}" | tr '[:upper:]' '[:lower:]')
  case $_acd_pinned in
    *[!0-9a-f]*)
      echo "allstacks-cd: ALLSTACKS_CD_SHA256 must be the 64 hex digits of the SHA-256 of $_acd_asset; not installed" >&2
      return 1
      ;;
  esac
  if [ -n "$_acd_pinned" ] && [ "${#_acd_pinned}" -ne 64 ]; then
    echo "allstacks-cd: ALLSTACKS_CD_SHA256 must be the 64 hex digits of the SHA-256 of $_acd_asset; not installed" >&2
    return 1
  fi
  _acd_path_bin=$(command -v allstacks-cd 2>/dev/null) || _acd_path_bin=
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
  if [ -n "$_acd_pinned" ]; then
    _acd_expected=$_acd_pinned
    _acd_from=ALLSTACKS_CD_SHA256
  elif allstacks_cd_fetch "$_acd_base/$_acd_asset.sha256" "$_acd_dir/sum" 2>/dev/null; then
    _acd_expected=$(head -n 1 "$_acd_dir/sum" | cut -d ' ' -f 1)
    _acd_from="$_acd_base/$_acd_asset.sha256"
  elif allstacks_cd_fetch "$_acd_base/SHA256SUMS" "$_acd_dir/sum" 2>/dev/null; then
    _acd_expected=$(awk -v a="$_acd_asset" '{ f = $2; sub(/^\*/, "", f) } f == a { print $1; exit }' "$_acd_dir/sum")
    _acd_from="$_acd_base/SHA256SUMS"
  else
    _acd_expected=
    _acd_from=$_acd_base
  fi
  _acd_actual=$(allstacks_cd_sha256 "$_acd_dir/$_acd_asset") || _acd_actual=
  _acd_expected=$(printf '%s' "$_acd_expected" | tr -d '\r' | tr '[:upper:]' '[:lower:]')
  if [ -z "$_acd_expected" ] || [ "$_acd_expected" != "$_acd_actual" ]; then
    echo "allstacks-cd: checksum mismatch for $_acd_asset: expected '${_acd_expected:-no checksum published}'" \
      "(from $_acd_from), got '$_acd_actual'; not installed" >&2
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
  # A binary on PATH is not run: only said to be the release's (same SHA-256) or not.
  if [ -n "$_acd_path_bin" ]; then
    if [ -f "$_acd_path_bin" ] &&
      [ "$(allstacks_cd_sha256 "$_acd_path_bin")" = "$(allstacks_cd_sha256 "$_acd_dir/bin/allstacks-cd")" ]; then
      echo "allstacks-cd: $_acd_path_bin on PATH is the release's binary too"
    else
      echo "allstacks-cd: not running $_acd_path_bin found on PATH: it is not the binary of release" \
        "$_acd_version (set ALLSTACKS_CD_BINARY to use a binary of yours)"
    fi
  fi
  PATH="$_acd_dir/bin:$PATH"
  export PATH
}
allstacks_cd_cleanup() {
  if [ -n "$_acd_dir" ]; then
    rm -rf "$_acd_dir"
    _acd_dir=
  fi
}

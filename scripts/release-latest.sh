#!/usr/bin/env bash
# Prints `true` when VERSION is the newest stable release among the tags on stdin (one
# `vX.Y.Z` a line, e.g. `git tag -l 'v*'`), else `false`. Only such a release moves the
# image's `latest` and `alpine` tags: a pre-release (1.2.0-rc.1) or a fix of an older line
# (1.1.5 after 1.2.0) does not.
#
# Usage: git tag -l 'v*' | scripts/release-latest.sh VERSION
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: git tag -l 'v*' | $0 VERSION" >&2
    exit 2
fi
version=${1#v}
stable='^[0-9]+\.[0-9]+\.[0-9]+$'

if ! [[ $version =~ $stable ]]; then
    echo false
    exit 0
fi
# The newest stable version among the tags and this one (sort -V: 1.10.0 after 1.9.0).
newest=$({
    printf '%s\n' "$version"
    sed -e 's/^v//' -e 's/\r$//'
} | grep -E "$stable" | sort -V | tail -n 1)
if [ "$newest" = "$version" ]; then echo true; else echo false; fi

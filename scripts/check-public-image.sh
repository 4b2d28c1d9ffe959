#!/usr/bin/env bash
# Checks that anyone can pull each IMAGE (REGISTRY/NAME:TAG): the registry's manifest request
# without credentials, as `docker pull` makes it without a login (an anonymous token from the
# registry's Bearer challenge, then the manifest). A new GHCR package is private, so the
# first release fails here until the package is made public once (docs/development.md,
# "The first release").
#
# Usage: scripts/check-public-image.sh IMAGE...
# Exit 0 when every image can be pulled; 1 (naming each image that cannot) otherwise.
# Plain http only for a registry on 127.0.0.1 or localhost (the tests' stand-in).
set -euo pipefail

ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# get URL [AUTH-HEADER]: the HTTP status, with the headers in $work/headers.
get() {
    local args=(-sS --retry 3 --connect-timeout 20 --max-time 60 -o /dev/null -D "$work/headers" -w '%{http_code}' -H "Accept: $ACCEPT")
    if [ -n "${2:-}" ]; then args+=(-H "$2"); fi
    curl "${args[@]}" "$1" || true
}

# The value of KEY="..." in the WWW-Authenticate challenge of $work/headers.
challenge() {
    tr -d '\r' <"$work/headers" | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *[Bb]earer //p' |
        tr ',' '\n' | sed -n "s/^ *$1=\"\\(.*\\)\"\$/\\1/p" | head -n 1
}

# 0 when IMAGE can be pulled anonymously; prints why not otherwise.
pullable() {
    local image=$1 registry rest name tag scheme url status realm service scope token
    registry=${image%%/*}
    rest=${image#*/}
    name=${rest%:*}
    tag=${rest##*:}
    if [ "$registry" = "$image" ] || [ "$name" = "$rest" ]; then
        echo "$image is not REGISTRY/NAME:TAG"
        return 1
    fi
    case $registry in
    127.0.0.1:* | localhost:*) scheme=http ;;
    *) scheme=https ;;
    esac
    url="$scheme://$registry/v2/$name/manifests/$tag"
    status=$(get "$url")
    if [ "$status" = 401 ]; then
        realm=$(challenge realm)
        service=$(challenge service)
        scope=$(challenge scope)
        if [ -z "$realm" ]; then
            echo "$url answered 401 without a Bearer challenge"
            return 1
        fi
        token=$(curl -sS --retry 3 --connect-timeout 20 --max-time 60 -G "$realm" \
            --data-urlencode "service=$service" --data-urlencode "scope=$scope" |
            sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p') || token=
        if [ -z "$token" ]; then
            echo "$realm gave no anonymous token for $scope"
            return 1
        fi
        status=$(get "$url" "Authorization: Bearer $token")
    fi
    if [ "$status" != 200 ]; then
        echo "the manifest of $image answered HTTP $status without credentials"
        return 1
    fi
}

failed=0
for image in "$@"; do
    if why=$(pullable "$image"); then
        echo "$image: anyone can pull it"
    else
        failed=1
        echo "::error title=image not public::$why. A new GHCR package is private: make it public once (the package's settings, Danger Zone, Change visibility, Public; see docs/development.md, \"The first release\"), then re-run this job."
    fi
done
exit "$failed"

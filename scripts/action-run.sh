#!/usr/bin/env bash
# The report step of the composite GitHub Action (action.yml): runs the installed binary
# with the ALLSTACKS_* variables that action.yml mapped from its inputs.
#
# Reads ALLSTACKS_CD_BIN (from the install step) and ALLSTACKS_CD_COMMAND (report|start). This
# job's own status arrives as ALLSTACKS_DEFAULT_STATUS: the binary uses it only when no event,
# `needs` or explicit status says otherwise.
set -euo pipefail

bin=${ALLSTACKS_CD_BIN:-}
command=${ALLSTACKS_CD_COMMAND:-report}
unset ALLSTACKS_CD_BIN ALLSTACKS_CD_COMMAND

# A workflow command's message with %, CR and LF encoded, so a value cannot end the command
# and start another one.
escape() {
    local s=${1//%/%25}
    s=${s//$'\r'/%0D}
    s=${s//$'\n'/%0A}
    printf '%s' "$s"
}

if [ -z "$bin" ]; then
    echo "::error title=allstacks-cd::the install step did not provide a binary" >&2
    exit 1
fi
case $command in
report | start) ;;
*)
    echo "::error title=allstacks-cd::input command must be 'report' or 'start', got '$(escape "$command")'" >&2
    exit 2
    ;;
esac

# An empty input means "not set": drop it so the binary's own defaults and detection apply.
while IFS= read -r name; do
    if [ -z "${!name}" ]; then
        unset "$name"
    fi
done < <(compgen -e | grep '^ALLSTACKS_' || true)
if [ -z "${GITHUB_TOKEN:-}" ]; then
    unset GITHUB_TOKEN
fi

exec "$bin" "$command"

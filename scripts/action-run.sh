#!/usr/bin/env bash
# The report step of the composite GitHub Action (action.yml): runs the installed binary
# with the ALLSTACKS_* variables that action.yml mapped from its inputs.
#
# Reads ALLSTACKS_CD_BIN (from the install step), ALLSTACKS_CD_COMMAND (report|start) and
# ALLSTACKS_CD_JOB_STATUS (this job's own `job.status`).
set -euo pipefail

bin=${ALLSTACKS_CD_BIN:-}
command=${ALLSTACKS_CD_COMMAND:-report}
job_status=${ALLSTACKS_CD_JOB_STATUS:-}
unset ALLSTACKS_CD_BIN ALLSTACKS_CD_COMMAND ALLSTACKS_CD_JOB_STATUS

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

# The `status` input defaults to this job's own status. A final job given `needs` reports
# the whole workflow, so there the default must not hide the needed jobs' results: a status
# equal to job.status is taken as that default and dropped.
if [ -n "${ALLSTACKS_NEEDS_JSON:-}" ] && [ "${ALLSTACKS_STATUS:-}" = "$job_status" ]; then
    unset ALLSTACKS_STATUS
fi

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

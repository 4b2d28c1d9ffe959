#!/usr/bin/env python3
"""Query the receiver's log for the e2e assertions (tests/e2e/run.sh).

    query.py LOG SELECT VALUE

SELECT and VALUE are Python expressions over one POSTed request: `p` is its JSON payload
(a dict, {} if the body was not JSON), `r` the whole record (method, path, headers, body),
`json` the module, `opt(key)` the value of optional field `key` (None when absent), `epoch(text)` converts an
RFC 3339 time to epoch seconds. Exactly one POST must match SELECT; then VALUE is printed
(strings as they are, anything else as JSON). Otherwise prints `<N matches>`, so the
caller's comparison fails with that message.

    query.py LOG count SELECT      prints how many POSTs match SELECT
"""

import datetime
import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def epoch(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def env_for(rec):
    p = rec.get("json") if isinstance(rec.get("json"), dict) else {}

    def opt(key):
        for item in p.get("optional") or []:
            if item.get("key") == key:
                return item.get("value")
        return None

    return {"p": p, "r": rec, "opt": opt, "epoch": epoch, "json": json}


def matching(records, select):
    out = []
    for rec in records:
        if rec.get("method") != "POST":
            continue
        try:
            if eval(select, {}, env_for(rec)):  # noqa: S307 (test-only expressions)
                out.append(rec)
        except Exception:  # noqa: BLE001 (a missing key simply does not match)
            pass
    return out


def show(value):
    return value if isinstance(value, str) else json.dumps(value)


def main(argv):
    if len(argv) == 4 and argv[2] == "count":
        print(len(matching(load(argv[1]), argv[3])))
        return 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    found = matching(load(argv[1]), argv[2])
    if len(found) != 1:
        print("<%d matches>" % len(found))
        return 0
    try:
        print(show(eval(argv[3], {}, env_for(found[0]))))  # noqa: S307
    except Exception as e:  # noqa: BLE001
        print("<error: %s: %s>" % (type(e).__name__, e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

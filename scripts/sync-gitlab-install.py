#!/usr/bin/env python3
"""Copy the GitLab install shell into the YAML files that run it.

scripts/gitlab-install.sh is the one source of the shell that downloads and verifies the
binary for the GitLab CI template and the CI/CD component. Each of those YAML files holds a
copy inside a literal block, between a line `# BEGIN scripts/gitlab-install.sh ...` and a
line `# END scripts/gitlab-install.sh`; everything below the source's cut line (`# ---8<---`)
goes there, indented like the BEGIN line. (A component cannot include a shell file of its
project, and a template included by URL cannot include a local file: so, copies.)

    python3 scripts/sync-gitlab-install.py          rewrite the copies
    python3 scripts/sync-gitlab-install.py --check  change nothing; exit 1 naming each copy
                                                    that differs from the source
Standard library only.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "scripts/gitlab-install.sh"
TARGETS = (".gitlab-ci-template.yml", "templates/allstacks-cd.yml")
CUT = "# ---8<---"
BEGIN = "# BEGIN " + SOURCE
END = "# END " + SOURCE


def source_body():
    lines = (ROOT / SOURCE).read_text(encoding="utf-8").splitlines()
    cuts = [i for i, line in enumerate(lines) if line.strip() == CUT]
    if len(cuts) != 1:
        raise SystemExit("%s: expected one cut line %r, found %d" % (SOURCE, CUT, len(cuts)))
    return lines[cuts[0] + 1 :]


def synced(path, body):
    """The text of `path` with its copy replaced by `body`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    begins = [i for i, line in enumerate(lines) if line.lstrip().startswith(BEGIN)]
    if len(begins) != 1:
        raise SystemExit("%s: expected one line starting with %r, found %d" % (path, BEGIN, len(begins)))
    start = begins[0]
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    ends = [i for i in range(start + 1, len(lines)) if lines[i] == indent + END]
    if not ends:
        raise SystemExit("%s: no %r after line %d, indented like it" % (path, END, start + 1))
    copy = [indent + line if line.strip() else "" for line in body]
    return "\n".join(lines[: start + 1] + copy + lines[ends[0] :]) + "\n"


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__, file=sys.stderr)
        return 2
    body = source_body()
    stale = []
    for name in TARGETS:
        path = ROOT / name
        new = synced(path, body)
        if new == path.read_text(encoding="utf-8"):
            continue
        if check:
            stale.append(name)
        else:
            path.write_text(new, encoding="utf-8")
            print("updated %s" % name)
    for name in stale:
        print("%s: its copy of %s differs; run python3 scripts/sync-gitlab-install.py" % (name, SOURCE))
    if check and not stale:
        print("%s copies match %s" % (" and ".join(TARGETS), SOURCE))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Static checks of action.yml and the GitLab template, for tests/e2e/run.sh.

    lint.py action ACTION_YML          every input is read as ${{ inputs.NAME }} in an env:
                                        mapping, every step has shell: bash, the first step
                                        masks the token, outputs come from the report step
    lint.py shell ACTION_YML OUT_DIR   writes each run: block of action.yml to OUT_DIR/*.bash
    lint.py shell-gitlab TEMPLATE OUT_DIR
                                        writes each script block of the template to
                                        OUT_DIR/*.sh (POSIX sh), so shellcheck can read them
    lint.py release-package RELEASE_YML OUT
                                        writes the run: script of the build job's Package step
    lint.py versions CARGO_TOML TEMPLATE
                                        the template's ALLSTACKS_CD_VERSION is the crate's
"""

import os
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


Loader.add_constructor("!reference", lambda loader, node: None)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


def check_action(path):
    doc = load(path)
    problems = []
    inputs = doc.get("inputs") or {}
    steps = doc["runs"]["steps"]
    env_refs = {}
    for step in steps:
        for var, value in (step.get("env") or {}).items():
            for name in re.findall(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", str(value)):
                env_refs.setdefault(name, []).append(var)
        if step.get("shell") != "bash":
            problems.append("step %r has no `shell: bash`" % step.get("name"))
        if "${{" in str(step.get("run", "")):
            problems.append("step %r puts an expression into its script (use env:)" % step.get("name"))
    for name in inputs:
        if name not in env_refs:
            problems.append("input %r is not read through ${{ inputs.%s }} in any env: mapping" % (name, name))
    for name in env_refs:
        if name not in inputs:
            problems.append("env: reads undeclared input %r" % name)
    first = steps[0]
    if "::add-mask::" not in first.get("run", "") or "inputs.token" not in str(first.get("env")):
        problems.append("the first step does not mask the token")
    if "inputs.token" not in str(first.get("if", "")):
        problems.append("the masking step does not check that the token is non-empty")
    for name, out in (doc.get("outputs") or {}).items():
        if "steps.report.outputs.%s" % name not in str(out.get("value")):
            problems.append("output %r does not come from the report step" % name)
    for name in ("job-id", "status", "payload"):
        if name not in (doc.get("outputs") or {}):
            problems.append("output %r is missing" % name)
    for p in problems:
        print(p)
    print("%d inputs, %d steps checked" % (len(inputs), len(steps)))
    return 1 if problems else 0


def extract_action_shell(path, out):
    os.makedirs(out, exist_ok=True)
    for i, step in enumerate(load(path)["runs"]["steps"]):
        if "run" in step:
            with open(os.path.join(out, "action-step-%d.bash" % i), "w") as f:
                f.write("#!/usr/bin/env bash\n" + step["run"] + "\n")
    return 0


def extract_gitlab_shell(path, out):
    os.makedirs(out, exist_ok=True)
    doc = load(path)
    n = 0
    for job, body in doc.items():
        if not isinstance(body, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            items = body.get(key) or []
            # Functions defined by one item are used by the next: lint the job's items together.
            text = "\n".join(i for i in items if isinstance(i, str))
            if text:
                n += 1
                safe = re.sub(r"[^A-Za-z0-9]+", "-", job).strip("-")
                with open(os.path.join(out, "%s-%s.sh" % (safe, key)), "w") as f:
                    f.write("#!/bin/sh\n" + text + "\n")
    return 0 if n else 1


def check_versions(cargo, template):
    with open(cargo, encoding="utf-8") as f:
        m = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', f.read(), re.M | re.S)
    crate = m.group(1) if m else None
    tpl = (load(template).get("variables") or {}).get("ALLSTACKS_CD_VERSION")
    print("Cargo.toml %s, template %s" % (crate, tpl))
    return 0 if crate and crate == tpl else 1


def extract_release_package(path, out):
    for step in load(path)["jobs"]["build"]["steps"]:
        if step.get("name") == "Package":
            with open(out, "w") as f:
                f.write(step["run"])
            return 0
    print("no Package step in the build job of %s" % path, file=sys.stderr)
    return 1


def main(argv):
    if len(argv) == 3 and argv[1] == "action":
        return check_action(argv[2])
    if len(argv) == 4 and argv[1] == "shell":
        return extract_action_shell(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "shell-gitlab":
        return extract_gitlab_shell(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "release-package":
        return extract_release_package(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "versions":
        return check_versions(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

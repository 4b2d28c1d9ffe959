#!/usr/bin/env python3
"""Static checks of action.yml, the GitLab template and the CI/CD component, for tests/e2e/run.sh.

    lint.py action ACTION_YML          every input is read as ${{ inputs.NAME }} in an env:
                                        mapping, every step has shell: bash, the first step
                                        masks the token, outputs come from the report step
    lint.py shell ACTION_YML OUT_DIR   writes each run: block of action.yml to OUT_DIR/*.bash
    lint.py shell-gitlab TEMPLATE OUT_DIR
                                        writes each script block of the template to
                                        OUT_DIR/*.sh (POSIX sh), so shellcheck can read them
    lint.py release-package RELEASE_YML OUT
                                        writes the run: script of the build job's Package step
    lint.py versions CARGO_TOML TEMPLATE COMPONENT
                                        the template's ALLSTACKS_CD_VERSION and the default of
                                        the component's `version` input are the crate's version
    lint.py component COMPONENT         the component's inputs are those of
                                        spec/gitlab-component.md (names, types, defaults,
                                        options), each described and used, none undeclared
    lint.py kubernetes DIR CARGO_TOML OUT
                                        renders DIR/kustomization.yaml (its resources:,
                                        namespace:, labels: and images:, the parts it uses) into
                                        OUT, one manifest a document, for kubernetes-validate,
                                        and checks the relay's hardening: the namespace, the
                                        image pinned to the crate's version, no service account
                                        token, a NetworkPolicy (in: 8080; out: DNS and 443)
    lint.py pinned WORKFLOW...          every `uses:` of another repository is pinned to a
                                        40-hex commit SHA with `# vX.Y.Z` after it, and every
                                        actions/checkout sets persist-credentials: false
    lint.py dockerfile DOCKERFILE       USER is 65532:65532 (numeric) and every FROM names its
                                        registry (docker.io/library/..., gcr.io/...) or a stage
    lint.py split-component COMPONENT OUT_DIR
                                        writes the component's two YAML documents (the
                                        `spec:` header and the jobs) to OUT_DIR/component-spec.yml
                                        and OUT_DIR/component-jobs.yml, for check-jsonschema
                                        (which reads one document per file)

A component is two YAML documents (`spec:` then `---` and the jobs); the shell-gitlab and
versions commands read the right one of each file.
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


def load_docs(path):
    """The (header, jobs) of a GitLab CI file: header is the `spec:` document of a component,
    None for a file with one document."""
    with open(path, encoding="utf-8") as f:
        docs = list(yaml.load_all(f, Loader=Loader))
    if len(docs) == 1:
        return None, docs[0]
    if len(docs) == 2 and isinstance(docs[0], dict) and "spec" in docs[0]:
        return docs[0], docs[1]
    raise SystemExit("%s: expected one document, or a spec: header and one more" % path)


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
    doc = load_docs(path)[1]
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
                prefix = os.path.splitext(os.path.basename(path))[0].strip(".")
                with open(os.path.join(out, "%s-%s-%s.sh" % (prefix, safe, key)), "w") as f:
                    f.write("#!/bin/sh\n" + text + "\n")
    return 0 if n else 1


def check_versions(cargo, template, component):
    with open(cargo, encoding="utf-8") as f:
        m = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', f.read(), re.M | re.S)
    crate = m.group(1) if m else None
    tpl = (load(template).get("variables") or {}).get("ALLSTACKS_CD_VERSION")
    header = load_docs(component)[0] or {}
    comp = (((header.get("spec") or {}).get("inputs") or {}).get("version") or {}).get("default")
    print("Cargo.toml %s, template %s, component %s" % (crate, tpl, comp))
    return 0 if crate and crate == tpl == comp else 1


# The component's inputs as spec/gitlab-component.md lists them: type, default, options.
# `version` defaults to the crate's version (checked by `versions`); service-id is required.
COMPONENT_INPUTS = {
    "service-id": ("number", None, None),
    "url": ("string", "", None),
    "company-id": ("string", "", None),
    "job-type": ("string", "", None),
    "scope": ("string", "pipeline", ["pipeline", "job"]),
    "stage": ("string", ".post", None),
    "job-prefix": ("string", "allstacks-cd", None),
    "fields": ("array", [], None),
    "environments": ("string", "", None),
    "strict": ("boolean", False, None),
    "version": ("string", None, None),
    "image": ("string", "", None),
}


def check_component(path):
    header, jobs = load_docs(path)
    problems = []
    inputs = ((header or {}).get("spec") or {}).get("inputs") or {}
    with open(path, encoding="utf-8") as f:
        body = f.read().split("\n---\n", 1)[-1]
    used = set(re.findall(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]", body))
    for name in sorted(set(COMPONENT_INPUTS) | set(inputs)):
        if name not in inputs:
            problems.append("input %r is missing" % name)
            continue
        if name not in COMPONENT_INPUTS:
            problems.append("input %r is not in spec/gitlab-component.md" % name)
            continue
        spec = inputs[name] or {}
        want_type, want_default, want_options = COMPONENT_INPUTS[name]
        if spec.get("type", "string") != want_type:
            problems.append("input %r: type %r, want %r" % (name, spec.get("type", "string"), want_type))
        if name == "service-id":
            if "default" in spec:
                problems.append("input 'service-id' must be required (no default)")
        elif name != "version" and spec.get("default") != want_default:
            problems.append("input %r: default %r, want %r" % (name, spec.get("default"), want_default))
        if want_options is not None and spec.get("options") != want_options:
            problems.append("input %r: options %r, want %r" % (name, spec.get("options"), want_options))
        if not str(spec.get("description") or "").strip():
            problems.append("input %r has no description" % name)
        if "regex" in spec:
            try:
                re.compile(spec["regex"])
            except re.error as e:
                problems.append("input %r: regex %r: %s" % (name, spec["regex"], e))
            if want_type != "string":
                problems.append("input %r: regex only applies to string inputs" % name)
            elif isinstance(spec.get("default"), str) and not re.search(spec["regex"], spec["default"]):
                problems.append("input %r: its default %r does not match its regex" % (name, spec["default"]))
        if name not in used:
            problems.append("input %r is not used ($[[ inputs.%s ]])" % (name, name))
    for name in sorted(used - set(inputs)):
        problems.append("$[[ inputs.%s ]] is used but not declared" % name)
    if not isinstance(jobs, dict) or not jobs:
        problems.append("no jobs after the spec: header")
    for p in problems:
        print(p)
    print("%d inputs checked" % len(inputs))
    return 1 if problems else 0


def split_component(path, out):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "\n---\n" not in text:
        print("%s has no --- line between its spec: header and its jobs" % path, file=sys.stderr)
        return 1
    head, jobs = text.split("\n---\n", 1)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "component-spec.yml"), "w", encoding="utf-8") as f:
        f.write(head + "\n")
    with open(os.path.join(out, "component-jobs.yml"), "w", encoding="utf-8") as f:
        f.write(jobs)
    return 0


def extract_release_package(path, out):
    for step in load(path)["jobs"]["build"]["steps"]:
        if step.get("name") == "Package":
            with open(out, "w") as f:
                f.write(step["run"])
            return 0
    print("no Package step in the build job of %s" % path, file=sys.stderr)
    return 1


def crate_version(cargo):
    with open(cargo, encoding="utf-8") as f:
        m = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', f.read(), re.M | re.S)
    return m.group(1) if m else None


# Kinds without a namespace, among those the manifests use.
CLUSTER_KINDS = {"Namespace"}


def render_kustomization(directory):
    """The manifests `kustomize build DIR` makes of a kustomization that uses resources:,
    namespace:, labels: (metadata only) and images: (name to newName/newTag); anything else
    in it is refused, so that this stays what kustomize does."""
    k = load(os.path.join(directory, "kustomization.yaml"))
    known = {"apiVersion", "kind", "namespace", "resources", "labels", "images"}
    unknown = sorted(set(k) - known)
    if unknown:
        raise SystemExit("kustomization.yaml uses %s, which lint.py does not render" % unknown)
    docs = []
    for res in k.get("resources") or []:
        with open(os.path.join(directory, res), encoding="utf-8") as f:
            docs += [d for d in yaml.load_all(f, Loader=Loader) if d]
    ns = k.get("namespace")
    images = {i["name"]: i for i in k.get("images") or []}
    for d in docs:
        meta = d.setdefault("metadata", {})
        if ns and d["kind"] == "Namespace":
            meta["name"] = ns
        elif ns and d["kind"] not in CLUSTER_KINDS:
            meta["namespace"] = ns
        for pairs in k.get("labels") or []:
            meta.setdefault("labels", {}).update(pairs.get("pairs") or {})
        spec = ((d.get("spec") or {}).get("template") or {}).get("spec") or {}
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            name = re.sub(r"(@.*|:[^/:]*)$", "", c["image"])  # without its tag or digest
            if name in images:
                i = images[name]
                c["image"] = "%s:%s" % (i.get("newName", name), i["newTag"])
    return docs


def check_kubernetes(directory, cargo, out):
    docs = render_kustomization(directory)
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    problems = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
        if d["kind"] not in CLUSTER_KINDS and not d["metadata"].get("namespace"):
            problems.append("%s/%s has no namespace" % (d["kind"], d["metadata"]["name"]))
    version = crate_version(cargo)
    for dep in by_kind.get("Deployment", []):
        pod = dep["spec"]["template"]["spec"]
        if pod.get("automountServiceAccountToken") is not False:
            problems.append("Deployment/%s mounts a service account token" % dep["metadata"]["name"])
        for c in pod["containers"]:
            if c["image"] != "ghcr.io/allstacks-cd/allstacks-cd:%s" % version:
                problems.append("container %s runs %s, not the release %s" % (c["name"], c["image"], version))
    policies = by_kind.get("NetworkPolicy", [])
    if len(policies) != 1:
        problems.append("expected one NetworkPolicy, found %d" % len(policies))
    for pol in policies:
        spec = pol["spec"]
        labels = spec["podSelector"].get("matchLabels") or {}
        pods = [d["spec"]["template"]["metadata"]["labels"] for d in by_kind.get("Deployment", [])]
        if not pods or not all(labels.items() <= p.items() for p in pods):
            problems.append("the NetworkPolicy does not select the relay's pods")
        ports = lambda rules: sorted(
            (p.get("protocol", "TCP"), p["port"]) for r in rules for p in r.get("ports") or []
        )
        if sorted(spec.get("policyTypes") or []) != ["Egress", "Ingress"]:
            problems.append("the NetworkPolicy must restrict both Ingress and Egress")
        if any(r.get("from") for r in spec.get("ingress") or []) or ports(spec.get("ingress") or []) != [("TCP", 8080)]:
            problems.append("ingress must be TCP 8080 only, got %s" % ports(spec.get("ingress") or []))
        if ports(spec.get("egress") or []) != [("TCP", 53), ("TCP", 443), ("UDP", 53)]:
            problems.append("egress must be DNS and 443 only, got %s" % ports(spec.get("egress") or []))
    for p in problems:
        print(p, file=sys.stderr)
    print("rendered %d manifests into %s" % (len(docs), out))
    return 1 if problems else 0


PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s*([^\s@#]+)@([0-9a-f]{40})\s+#\s*v\d+(?:\.\d+)*\s*$")


def check_pinned(paths):
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for n, line in enumerate(lines, 1):
            m = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)", line)
            if not m or m.group(1).startswith("./"):
                continue
            if not PINNED.match(line):
                problems.append("%s:%d: not pinned to a commit SHA with its version: %s" % (path, n, line.strip()))
        for job in (load(path).get("jobs") or {}).values():
            for step in job.get("steps") or []:
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    if (step.get("with") or {}).get("persist-credentials") is not False:
                        problems.append("%s: a checkout keeps its credentials (persist-credentials)" % path)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def check_dockerfile(path):
    with open(path, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    problems = []
    stages = set()
    for line in lines:
        words = line.split()
        if words[0].upper() == "FROM":
            image = [w for w in words[1:] if not w.startswith("--")][0]
            first = image.split("/", 1)[0]
            if image not in stages and ("/" not in image or not ("." in first or ":" in first)):
                problems.append("FROM %s: name the registry (docker.io/library/...)" % image)
            if "AS" in (w.upper() for w in words):
                stages.add(words[-1])
    users = [l.split(None, 1)[1] for l in lines if l.split()[0].upper() == "USER"]
    if not users or users[-1] != "65532:65532":
        problems.append("the last USER is %s, not 65532:65532" % (users[-1] if users else "missing"))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "action":
        return check_action(argv[2])
    if len(argv) == 4 and argv[1] == "shell":
        return extract_action_shell(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "shell-gitlab":
        return extract_gitlab_shell(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "release-package":
        return extract_release_package(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == "versions":
        return check_versions(argv[2], argv[3], argv[4])
    if len(argv) == 3 and argv[1] == "component":
        return check_component(argv[2])
    if len(argv) >= 3 and argv[1] == "pinned":
        return check_pinned(argv[2:])
    if len(argv) == 3 and argv[1] == "dockerfile":
        return check_dockerfile(argv[2])
    if len(argv) == 5 and argv[1] == "kubernetes":
        return check_kubernetes(argv[2], argv[3], argv[4])
    if len(argv) == 4 and argv[1] == "split-component":
        return split_component(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Small readers shared by the deployment tests: the Dockerfile, .dockerignore, packages.txt and
the settings the binary really has; and their one way of recording a failed check. Python 3
standard library only."""

import json
import os
import re
import subprocess

# Every failed check of the running test, in order; a test fails when this is not empty.
failures = []


def check(condition, message):
    """Records and prints a failed check (the test goes on); returns the condition."""
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition


class Instruction:
    def __init__(self, keyword, args, line):
        self.keyword, self.args, self.line = keyword, args, line

    def exec_form(self):
        """The JSON array of an exec-form instruction (after its flags), or None."""
        rest = self.args
        while rest.startswith("--"):
            rest = rest.split(None, 1)[1] if " " in rest else ""
        if self.keyword == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(.*)$", rest, re.S)
            rest = m.group(1) if m else ""
        try:
            value = json.loads(rest)
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


class Stage:
    def __init__(self, image, name, line):
        self.image, self.name, self.line = image, name, line
        self.instructions = []

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword):
        found = self.all(keyword)
        return found[-1] if found else None


def parse_dockerfile(path):
    """Stages with their instructions: comments dropped, `\\` continuations joined."""
    stages, pending, start = [], "", 0
    with open(path) as f:
        lines = f.read().splitlines()
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        text = (pending + stripped).strip()
        pending = ""
        keyword, _, args = text.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            parts = args.split()
            parts = [p for p in parts if not p.startswith("--")]
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name, start))
        elif not stages:
            continue  # ARG before FROM
        else:
            stages[-1].instructions.append(Instruction(keyword, args, start))
    return stages


def read_packages(path):
    groups = {}
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                group, package = line.split()
                groups.setdefault(group, []).append(package)
    return groups


def dockerignore_patterns(path):
    patterns = []
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line and not line.startswith("#"):
                patterns.append(line.lstrip("/"))
    return patterns


def _pattern_regex(pattern):
    # Go's filepath.Match as Docker uses it: `*` and `?` stop at `/`, `**` crosses folders.
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignored(relpath, patterns):
    """Docker's rule: a pattern (anchored at the context root) matches a path or one of its
    parent folders; a later `!pattern` re-includes."""
    parts = relpath.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for p in patterns:
        negate = p.startswith("!")
        rx = _pattern_regex(p[1:] if negate else p)
        if any(rx.match(prefix) for prefix in prefixes):
            result = not negate
    return result


def real_settings(binary):
    """Every setting the binary reads, with its default, as `check-config` prints them in an
    environment without a .env file."""
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env"}
    out = subprocess.run([binary, "check-config"], env=env, capture_output=True, text=True,
                         timeout=30, check=True).stdout
    settings = {}
    for line in out.splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            settings[m.group(1)] = m.group(2)
    return settings


def env_example_names(path):
    names = set()
    with open(path) as f:
        for line in f:
            m = re.match(r"^#?([A-Z][A-Z0-9_]*)=", line)
            if m:
                names.add(m.group(1))
    return names


def spec_setting_names(spec_path):
    """The setting names of SPEC §2's table (rows like `| JWT_ISSUER / JWT_AUDIENCE | …`)."""
    names = set()
    if not os.path.exists(spec_path):
        return None
    in_section = False
    with open(spec_path) as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.startswith("## 2.")
            if in_section and line.startswith("| ") and not line.startswith("| setting"):
                first = line.split("|")[1]
                names.update(n.strip() for n in first.split("/") if re.fullmatch(r"\s*[A-Z_]+\s*", n))
    return names

"""Small readers shared by the deployment tests: the Dockerfile, .dockerignore, packages.txt, the
settings the binary really has and the settings table of docs/configuration.md; and their one way
of recording a failed check. Python 3 standard library only."""

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


SETTINGS_TABLE_HEADER = ["setting", "type / allowed", "default", "notes"]


def _table_cells(line):
    """The cells of a Markdown table row; `\\|` inside a cell is not a separator."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


def documented_setting_names(doc_path):
    """The setting names of the settings table in docs/configuration.md: the first table whose
    header is `| setting | type / allowed | default | notes |`. The first cell of each row names
    one setting or several separated by `/` (`JWT_ISSUER / JWT_AUDIENCE`), in backticks or
    plain. Every name found is returned as written (backticks and blanks removed), so a
    misspelt one shows up when the set is compared with the binary's. Returns None when the file
    has no such table."""
    with open(doc_path) as f:
        lines = f.read().splitlines()
    start = None
    for i, line in enumerate(lines):
        if line.lstrip().startswith("|") and \
                [c.lower() for c in _table_cells(line)] == SETTINGS_TABLE_HEADER:
            start = i + 1
            break
    if start is None:
        return None
    names = set()
    for line in lines[start:]:
        if not line.lstrip().startswith("|"):
            break  # the table ends at the first line that is not a row
        first = _table_cells(line)[0]
        if re.fullmatch(r":?-+:?", first):
            continue  # the delimiter row
        for part in first.split("/"):
            name = part.replace("`", "").strip()
            if name:
                names.add(name)
    return names

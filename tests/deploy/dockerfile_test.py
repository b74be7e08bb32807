#!/usr/bin/env python3
"""Checks the Dockerfile without a Docker engine (none is available to the test suite; hadolint
is not packaged in Debian 12).

    dockerfile_test.py REPO_ROOT /path/to/user-service

1. Rules, by parsing the Dockerfile: multi-stage on Debian 12; the build stage installs the
   `build` group with scripts/install-deps.sh and builds with `make build` (the README's build
   target) and compiles nothing by a recipe of its own; the runtime stage installs only the
   `runtime` group, runs as a non-root user, EXPOSEs the service's default PORT, starts in exec
   form and has a HEALTHCHECK running `user-service healthcheck`.
2. The runtime group is exactly what the binary links: every shared library the built binary
   needs (ELF NEEDED) comes from a `runtime` package or the Debian base image, and every
   `runtime` package provides one of them (ca-certificates aside: TLS to PostgreSQL).
3. The build stage's commands, run for real on a copy of the Docker build context (the
   repository filtered by .dockerignore): the dependency script, then `make build` as make
   would run it (`make -n` lists its steps), with one difference: the final compile step is
   replaced by Ninja's plan for the user-service target. Configuring proves the context holds
   everything CMake needs, the plan that every input of the target is there. Compiling the same sources again would double CI's build time
   for nothing: the suite's own build compiles them, with -Werror on top.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile_lib as lib  # noqa: E402

from dockerfile_lib import check, failures  # noqa: E402


def is_debian_12(image):
    return re.fullmatch(r"(docker\.io/)?(library/)?debian:(12|bookworm)([-.][\w.-]*)?(@sha256:[0-9a-f]+)?",
                        image) is not None


def check_rules(root, binary, stages):
    default_port = lib.real_settings(binary)["PORT"]
    check(len(stages) >= 2, f"the Dockerfile has {len(stages)} stage(s), want a multi-stage build")
    for s in stages:
        check(is_debian_12(s.image), f"stage at line {s.line} is FROM {s.image}, not Debian 12")
    runtime = stages[-1]
    copies = [i for i in runtime.all("COPY") if "--from=" in i.args]
    build_names = {re.search(r"--from=(\S+)", i.args).group(1) for i in copies}
    build = [s for s in stages[:-1] if s.name in build_names]
    check(len(build) == 1, f"the runtime stage copies from {sorted(build_names)}: want one build stage")
    if not build:
        return
    build = build[0]

    runs = [i.args for i in build.all("RUN")]
    check(any(re.search(r"\bbash scripts/install-deps\.sh build\b", r) for r in runs),
          "build stage: no `bash scripts/install-deps.sh build`")
    check(any(re.search(r"\bmake build\b", r) for r in runs), "build stage: no `make build`")
    for r in runs:
        check(not re.search(r"\b(cmake|ninja|g\+\+|gcc|c\+\+|apt-get install)\b", r),
              f"build stage runs a recipe of its own (drifts from the Makefile): RUN {r}")
    # `make build` is the README's target: it installs the `build` group and builds user-service.
    with open(os.path.join(root, "Makefile")) as f:
        makefile = f.read()
    m = re.search(r"^build:.*\n((?:\t.*\n)+)", makefile, re.M)
    recipe = m.group(1) if m else ""
    check("bash scripts/install-deps.sh build" in recipe and "--target user-service" in recipe,
          f"the Makefile's build target is not the dependency script + the user-service build:\n{recipe}")
    with open(os.path.join(root, "README.md")) as f:
        check("make run" in f.read(), "README does not use `make run` (which runs `make build`)")

    rruns = [i.args for i in runtime.all("RUN")]
    check(any(re.search(r"install-deps\.sh runtime\b", r) for r in rruns),
          "runtime stage: no `install-deps.sh runtime`")
    check(not any(re.search(r"install-deps\.sh.*\b(build|test)\b", r) for r in rruns),
          "runtime stage installs the build or test group")
    check(not any("apt-get install" in r for r in rruns),
          "runtime stage installs packages outside scripts/packages.txt")

    user = runtime.last("USER")
    uid = user.args.split(":")[0] if user else ""
    check(user is not None and uid not in ("", "root", "0"), f"runtime USER is {uid or 'missing'}")
    check(uid.isdigit(), f"runtime USER {uid!r} is not numeric (Kubernetes runAsNonRoot needs a UID)")

    exposes = [p.split("/")[0] for i in runtime.all("EXPOSE") for p in i.args.split()]
    check(exposes == [default_port], f"EXPOSE {exposes}, the service's default PORT is {default_port}")
    for env in runtime.all("ENV"):
        m = re.search(r"\bPORT=(\S+)", env.args)
        if m:
            check(m.group(1) == default_port, f"ENV PORT={m.group(1)}, EXPOSE {default_port}")

    entry = runtime.last("ENTRYPOINT")
    form = entry.exec_form() if entry else None
    check(form is not None and os.path.basename(form[0]) == "user-service",
          f"ENTRYPOINT is not exec form starting user-service: {entry.args if entry else 'missing'}")
    cmd = runtime.last("CMD")
    check(cmd is None or cmd.exec_form() is not None, f"CMD is not exec form: {cmd.args if cmd else ''}")
    health = runtime.last("HEALTHCHECK")
    hform = health.exec_form() if health else None
    check(hform is not None and os.path.basename(hform[0]) == "user-service"
          and hform[1:2] == ["healthcheck"],
          f"HEALTHCHECK is not `CMD [\"user-service\", \"healthcheck\"]`: {health.args if health else 'missing'}")
    stop = runtime.last("STOPSIGNAL")
    check(stop is None or stop.args in ("SIGTERM", "15"), f"STOPSIGNAL {stop.args if stop else ''}")
    print(f"rules: {len(stages)} stages on Debian 12, build = install-deps.sh build + make build, "
          f"runtime USER {uid}, EXPOSE {exposes}, ENTRYPOINT {form}, HEALTHCHECK {hform}", flush=True)


# Present in every debian:12 image (libc6 is essential; apt needs libstdc++6 and libgcc-s1).
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}
# Linked only by sanitizer builds of the suite, never by the image's build.
SANITIZER_LIBS = re.compile(r"^lib(asan|ubsan|tsan|lsan)\.so")


def package_of(library_path):
    real = os.path.realpath(library_path)
    candidates = {library_path, real}
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.add(p[4:])
        elif p.startswith("/lib/"):
            candidates.add("/usr" + p)
    for c in candidates:
        r = subprocess.run(["dpkg-query", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].strip()
    return None


def check_runtime_libraries(binary, packages):
    runtime = set(packages.get("runtime", []))
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                                       check=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", binary], capture_output=True, text=True, check=True).stdout, re.M))
    provided = set()
    for soname in needed:
        if SANITIZER_LIBS.match(soname):
            print(f"note: {soname} is a sanitizer runtime (this is a sanitizer build), not checked")
            continue
        path = paths.get(soname)
        pkg = package_of(path) if path else None
        if not check(pkg is not None, f"{soname}: no Debian package provides it ({path})"):
            continue
        provided.add(pkg)
        check(pkg in runtime or pkg in BASE_IMAGE_PACKAGES,
              f"{soname} comes from {pkg}, which is not in the runtime group of scripts/packages.txt")
    extra = runtime - provided - {"ca-certificates"}
    check(not extra, f"runtime group packages the binary does not link: {sorted(extra)}")
    print(f"runtime libraries: {len(needed)} NEEDED by the binary, from "
          f"{sorted(provided & runtime)} (runtime group) and {sorted(provided & BASE_IMAGE_PACKAGES)} "
          "(base image)", flush=True)


def copy_build_context(root, dest):
    patterns = lib.dockerignore_patterns(os.path.join(root, ".dockerignore"))
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = [d for d in dirnames if not lib.ignored(os.path.join(rel_dir, d), patterns)]
        for name in filenames:
            rel = os.path.join(rel_dir, name)
            if lib.ignored(rel, patterns):
                continue
            os.makedirs(os.path.join(dest, rel_dir), exist_ok=True)
            shutil.copy2(os.path.join(root, rel), os.path.join(dest, rel))
            count += 1
    return count


def check_build_plan(step, context, build_dir):
    """Instead of compiling: Ninja's plan for the target `step` builds (a `ninja -n` stops at
    CMake's always-dirty glob check). Every input outside the build tree must be in the context,
    and the plan must end in linking user-service."""
    m = re.search(r"--target (\S+)", step)
    target = m.group(1) if m else "all"
    inputs = subprocess.run(["ninja", "-C", build_dir, "-t", "inputs", target], capture_output=True,
                            text=True, check=True).stdout.split()
    sources = [i for i in inputs if not i.startswith(build_dir + "/") and i.startswith(context)]
    missing = [i for i in sources if not os.path.exists(i)]
    check(not missing, f"inputs of {target} missing from the build context: {missing[:10]}")
    commands = subprocess.run(["ninja", "-C", build_dir, "-t", "commands", target],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    check(bool(commands) and re.search(r"-o user-service\b", commands[-1]) is not None,
          f"the plan for {target} does not link user-service")
    print(f"planned `{step}` (not compiled): {len(commands)} commands, {len(sources)} source "
          "inputs, all in the context", flush=True)


def check_build_commands(root, build_stage):
    """Runs the build stage's RUN lines in a copy of the build context; the compile is a dry run."""
    with tempfile.TemporaryDirectory(prefix="user-service-docker-context.") as tmp:
        context = os.path.join(tmp, "src")
        files = copy_build_context(root, context)
        build_dir = os.path.join(tmp, "build")
        for f in ("CMakeLists.txt", "Makefile", "scripts/install-deps.sh", "scripts/packages.txt"):
            check(os.path.exists(os.path.join(context, f)), f".dockerignore leaves out {f}")
        for run in [i.args for i in build_stage.all("RUN")]:
            if "install-deps.sh" in run:
                # Exactly as the Dockerfile runs it (a no-op when the packages are present),
                # minus the apt list clean-up that only matters inside an image layer.
                cmd = run.split("&&")[0].strip()
                r = subprocess.run(cmd, shell=True, cwd=context, capture_output=True, text=True,
                                   timeout=1800)
                check(r.returncode == 0, f"`{cmd}` failed: {r.stdout[-1000:]}{r.stderr[-1000:]}")
                print(f"ran `{cmd}`: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''}")
            elif re.search(r"\bmake build\b", run):
                m = re.search(r"\bmake build\b(.*)$", run)
                args = [a for a in shlex.split(m.group(1)) if not a.startswith("BUILD_DIR=")]
                # As a top-level make inside the image would: under `make test` (CI) the
                # inherited MAKELEVEL/MAKEFLAGS make a nested make print "make[1]: Entering …".
                top_env = {k: v for k, v in os.environ.items()
                           if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
                plan = subprocess.run(["make", "-n", "--no-print-directory", "build",
                                       f"BUILD_DIR={build_dir}", *args], cwd=context, env=top_env,
                                      capture_output=True, text=True, check=True).stdout
                steps = [l for l in plan.splitlines() if l.strip()]
                check(any("--target user-service" in s for s in steps),
                      f"`make build` does not build user-service: {steps}")
                for step in steps:
                    if step.startswith("cmake --build"):
                        check_build_plan(step, context, build_dir)
                        continue
                    t0 = time.monotonic()
                    r = subprocess.run(step, shell=True, cwd=context, capture_output=True,
                                       text=True, timeout=600)
                    took = time.monotonic() - t0
                    if not check(r.returncode == 0, f"`{step}` failed in the build context: "
                                 f"{r.stdout[-2000:]}{r.stderr[-2000:]}"):
                        break
                    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
                    print(f"ran `{step}` ({took:.1f} s): {last}", flush=True)
        print(f"build context: {files} files after .dockerignore", flush=True)


def main():
    if len(sys.argv) != 3:
        print("usage: dockerfile_test.py REPO_ROOT /path/to/user-service", file=sys.stderr)
        return 2
    root, binary = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    t0 = time.monotonic()
    stages = lib.parse_dockerfile(os.path.join(root, "Dockerfile"))
    packages = lib.read_packages(os.path.join(root, "scripts", "packages.txt"))
    check_rules(root, binary, stages)
    check_runtime_libraries(binary, packages)
    build = [s for s in stages if s.name == "build"]
    if check(len(build) == 1, "no stage named `build`"):
        check_build_commands(root, build[0])
    if failures:
        print(f"Dockerfile test FAILED ({len(failures)} checks)")
        return 1
    print(f"Dockerfile test passed in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The deployment files say the same ports, paths and settings as the service.

    consistency_test.py REPO_ROOT /path/to/user-service

Sources of truth: the binary itself (`check-config` lists every setting it reads, with its
default; a running instance answers the probe paths), .env.example, and the settings table of
docs/configuration.md, whose setting names must be exactly the binary's. Checked against them:
the Dockerfile, docker-compose.yml, every manifest under deploy/k8s, deploy/README.md and
README.md. Every YAML file must parse (Debian's python3-yaml).
"""

import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time
import http.client

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile_lib as lib  # noqa: E402

from dockerfile_lib import check, failures  # noqa: E402

# SHUTDOWN_DELAY_SECONDS outside development (docs/configuration.md); check-config above runs in
# development, where it is 0.
PRODUCTION_SHUTDOWN_DELAY = 5.0


def compose_seconds(value, fallback):
    """A compose environment value: a number, or `${NAME:-default}`; else the fallback."""
    m = re.fullmatch(r"\$\{[A-Z0-9_]+:-([0-9.]+)\}", str(value)) if value is not None else None
    if m:
        return float(m.group(1))
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(fallback)


def load_yaml_files(root):
    files = [os.path.join(root, "docker-compose.yml")]
    files += sorted(glob.glob(os.path.join(root, "deploy", "**", "*.y*ml"), recursive=True))
    docs = {}
    for path in files:
        rel = os.path.relpath(path, root)
        try:
            with open(path) as f:
                docs[rel] = [d for d in yaml.safe_load_all(f) if d is not None]
        except (OSError, yaml.YAMLError) as e:
            check(False, f"{rel} does not parse: {e}")
    print(f"YAML: {len(docs)} files parse: {', '.join(sorted(docs))}", flush=True)
    return docs


def running_probe_paths(binary):
    """Starts the binary (SQLite in memory, a free port) and GETs the probe paths, then runs
    `user-service healthcheck` exactly as the image's HEALTHCHECK does (PORT from the env)."""
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env", "HOST": "127.0.0.1",
           "PORT": "0", "WORKERS": "1", "DATABASE_URL": "sqlite://:memory:",
           "JWT_SECRET": "consistency-test-secret-that-is-long-enough-0123", "LOG_LEVEL": "info"}
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    port = []
    got = threading.Event()

    def reader():
        for raw in proc.stdout:
            m = re.search(rb'"event":"service_started".*"port":([0-9]+)', raw)
            if m and not port:
                port.append(int(m.group(1)))
                got.set()
        got.set()

    threading.Thread(target=reader, daemon=True).start()
    got.wait(timeout=30)
    answers = {}
    try:
        if not check(bool(port), "the service did not start for the probe check"):
            return answers, None
        for path in ("/health/live", "/health/ready", "/metrics"):
            conn = http.client.HTTPConnection("127.0.0.1", port[0], timeout=5)
            conn.request("GET", path)
            answers[path] = conn.getresponse().status
            conn.close()
        hc = subprocess.run([binary, "healthcheck"], env=dict(env, PORT=str(port[0])),
                            capture_output=True, timeout=15)
        return answers, hc.returncode
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def by_kind(docs):
    kinds = {}
    for rel, items in docs.items():
        if not rel.startswith("deploy/k8s/"):
            continue
        for d in items:
            if isinstance(d, dict) and "kind" in d:
                kinds.setdefault(d["kind"], []).append((rel, d))
    return kinds


def env_names_of(container):
    return [e["name"] for e in container.get("env", [])]


def main():
    if len(sys.argv) != 3:
        print("usage: consistency_test.py REPO_ROOT /path/to/user-service", file=sys.stderr)
        return 2
    root, binary = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    t0 = time.monotonic()

    # ---- sources of truth --------------------------------------------------------------------
    defaults = lib.real_settings(binary)
    example = lib.env_example_names(os.path.join(root, ".env.example"))
    doc_path = os.path.join(root, "docs", "configuration.md")
    documented = None
    if not os.path.exists(doc_path):
        check(False, "docs/configuration.md is missing: it documents every setting")
    else:
        documented = lib.documented_setting_names(doc_path)
        check(documented is not None, "docs/configuration.md has no settings table "
                                      "(header `| setting | type / allowed | default | notes |`)")
    read = set(defaults)
    settings = read & example
    if documented is not None:
        check(not (read - documented),
              f"settings the binary reads but docs/configuration.md does not list: "
              f"{sorted(read - documented)}")
        check(not (documented - read),
              f"settings docs/configuration.md lists but the binary does not read: "
              f"{sorted(documented - read)}")
        settings &= documented
    check(len(settings) >= 30, f"only {len(settings)} settings found: {sorted(settings)}")
    port = defaults["PORT"]
    grace = float(defaults["SHUTDOWN_GRACE_SECONDS"])
    print(f"settings: {len(settings)} names (binary ∩ .env.example"
          f"{' ∩ docs/configuration.md' if documented is not None else ''}), default PORT {port}",
          flush=True)

    answers, healthcheck_rc = running_probe_paths(binary)
    check(answers.get("/health/live") == 200 and answers.get("/health/ready") == 200,
          f"probe paths on a running instance: {answers}")
    check(healthcheck_rc == 0, f"`user-service healthcheck` (the image's HEALTHCHECK) exited {healthcheck_rc}")
    live, ready = "/health/live", "/health/ready"

    # ---- Dockerfile --------------------------------------------------------------------------
    stages = lib.parse_dockerfile(os.path.join(root, "Dockerfile"))
    runtime = stages[-1]
    exposed = [p.split("/")[0] for i in runtime.all("EXPOSE") for p in i.args.split()]
    check(exposed == [port], f"Dockerfile EXPOSE {exposed}, service default PORT {port}")
    docker_env = {}
    for i in runtime.all("ENV"):
        for m in re.finditer(r"([A-Z_][A-Z0-9_]*)=(\S+)", i.args):
            docker_env[m.group(1)] = m.group(2)
    for name in docker_env:
        check(name in settings or name == "ENV_FILE", f"Dockerfile ENV {name} is not a setting")
    check(docker_env.get("PORT", port) == port, f"Dockerfile ENV PORT={docker_env.get('PORT')}")
    user = runtime.last("USER")
    uid = int(user.args.split(":")[0]) if user and user.args.split(":")[0].isdigit() else None

    docs = load_yaml_files(root)

    # ---- docker-compose.yml ------------------------------------------------------------------
    compose = (docs.get("docker-compose.yml") or [{}])[0]
    services = compose.get("services", {})
    app_name = [n for n, s in services.items() if s.get("command") in (["serve"], None)
                and s.get("build")]
    check(len(app_name) == 1, f"compose: want one service running the built image: {app_name}")
    app = services.get(app_name[0], {}) if app_name else {}
    migrate = [s for s in services.values() if s.get("command") == ["migrate"]]
    check(len(migrate) == 1, "compose: no one-shot `migrate` service")
    check(str(services.get("postgres", {}).get("image", "")).startswith("postgres:15"),
          "compose: postgres is not postgres:15")
    check(str(services.get("redis", {}).get("image", "")).startswith("redis:7"),
          "compose: redis is not redis:7")
    for dep in ("postgres", "redis"):
        check("test" in services.get(dep, {}).get("healthcheck", {}), f"compose: {dep} has no health check")
    deps = app.get("depends_on", {})
    check(deps.get("postgres", {}).get("condition") == "service_healthy"
          and deps.get("redis", {}).get("condition") == "service_healthy",
          f"compose: the service does not wait for healthy postgres and redis: {deps}")
    migrate_name = [n for n, s in services.items() if s.get("command") == ["migrate"]]
    check(bool(migrate_name) and deps.get(migrate_name[0], {}).get("condition")
          == "service_completed_successfully", f"compose: the service does not wait for migrate: {deps}")
    check(bool(migrate) and migrate[0].get("depends_on", {}).get("postgres", {}).get("condition")
          == "service_healthy", "compose: migrate does not wait for a healthy postgres")
    for name, svc in services.items():
        if svc.get("build") or svc.get("image", "").startswith("user-service"):
            env = svc.get("environment", {})
            check(isinstance(env, dict), f"compose {name}: environment is not a mapping")
            for key in env:
                check(key in settings, f"compose {name}: {key} is not a setting of docs/configuration.md and .env.example")
            check(str(env.get("PORT", port)) == port, f"compose {name}: PORT {env.get('PORT')}")
            check(str(env.get("DATABASE_URL", "")).startswith("postgresql://"),
                  f"compose {name}: DATABASE_URL is not the compose PostgreSQL")
            check(str(env.get("MIGRATE_ON_START", "")).lower() == "false",
                  f"compose {name}: MIGRATE_ON_START should be false (the migrate service does it)")
    ports = [str(p) for p in app.get("ports", [])]
    check(any(p.endswith(":" + port) for p in ports), f"compose: ports {ports} do not publish {port}")
    check(app.get("healthcheck", {}).get("test") == ["CMD", "user-service", "healthcheck"],
          f"compose: healthcheck {app.get('healthcheck')}")
    sgp = str(app.get("stop_grace_period", "10s"))
    app_env = app.get("environment", {}) if isinstance(app.get("environment"), dict) else {}
    compose_grace = compose_seconds(app_env.get("SHUTDOWN_GRACE_SECONDS"), grace)
    compose_delay = compose_seconds(app_env.get("SHUTDOWN_DELAY_SECONDS"), PRODUCTION_SHUTDOWN_DELAY)
    check(sgp.endswith("s") and float(sgp[:-1]) > compose_grace + compose_delay,
          f"compose: stop_grace_period {sgp} is not longer than SHUTDOWN_DELAY_SECONDS "
          f"{compose_delay:g} + SHUTDOWN_GRACE_SECONDS {compose_grace:g}")
    volumes = compose.get("volumes", {}) or {}
    pg_volumes = [v.split(":")[0] for v in services.get("postgres", {}).get("volumes", [])]
    check(any(v in volumes for v in pg_volumes), f"compose: postgres data is not on a named volume {pg_volumes}")

    # ---- Kubernetes --------------------------------------------------------------------------
    kinds = by_kind(docs)
    kustom = (docs.get("deploy/k8s/kustomization.yaml") or [{}])[0]
    resources = kustom.get("resources", [])
    for r in resources:
        check(os.path.exists(os.path.join(root, "deploy", "k8s", r)), f"kustomization: {r} missing")
    listed = {d["kind"] for r in resources for d in docs.get(f"deploy/k8s/{r}", []) if isinstance(d, dict)}
    for kind in ("Deployment", "Service", "ConfigMap", "Job", "HorizontalPodAutoscaler",
                 "PodDisruptionBudget"):
        check(kind in listed, f"kustomization.yaml does not include a {kind}")
    check("Secret" not in listed, "kustomization.yaml applies a Secret: it must be created out of band")

    secrets = kinds.get("Secret", [])
    check(len(secrets) == 1, f"want one Secret template, found {len(secrets)}")
    secret_name = secrets[0][1]["metadata"]["name"] if secrets else ""
    for _, s in secrets:
        data = {**s.get("stringData", {}), **s.get("data", {})}
        for key, value in data.items():
            check(key in settings, f"Secret template: {key} is not a setting")
            check(value in ("", None), f"Secret template: {key} holds a value; a template holds none")
    secret_keys = set(data) if secrets else set()

    cms = kinds.get("ConfigMap", [])
    check(len(cms) == 1, f"want one ConfigMap, found {len(cms)}")
    cm = cms[0][1] if cms else {"data": {}, "metadata": {"name": ""}}
    cm_data = cm.get("data", {})
    for key in cm_data:
        check(key in settings, f"ConfigMap: {key} is not a setting")
        check(key not in secret_keys, f"ConfigMap: {key} belongs in the Secret")
    check(str(cm_data.get("PORT", port)) == port, f"ConfigMap PORT {cm_data.get('PORT')}")
    check(cm_data.get("ENVIRONMENT") == "production", "ConfigMap: ENVIRONMENT is not production")
    check("DATABASE_URL" in secret_keys and "DATABASE_URL" not in cm_data,
          "DATABASE_URL must come from the Secret (no SQLite default in Kubernetes)")
    cm_grace = float(cm_data.get("SHUTDOWN_GRACE_SECONDS", grace))
    cm_delay = float(cm_data.get("SHUTDOWN_DELAY_SECONDS", PRODUCTION_SHUTDOWN_DELAY))

    deployments = kinds.get("Deployment", [])
    check(len(deployments) == 1, f"want one Deployment, found {len(deployments)}")
    dep = deployments[0][1] if deployments else {}
    pod = dep.get("spec", {}).get("template", {})
    pod_labels = pod.get("metadata", {}).get("labels", {})
    pod_spec = pod.get("spec", {})
    containers = pod_spec.get("containers", [{}])
    c = containers[0]
    named_ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    check(str(named_ports.get("http")) == port, f"Deployment containerPort http {named_ports}")

    def probe(name, want_path):
        p = c.get(name, {}).get("httpGet", {})
        target = p.get("port")
        target = named_ports.get(target, target)
        check(p.get("path") == want_path and str(target) == port,
              f"Deployment {name}: {p} (want {want_path} on {port})")

    probe("startupProbe", live)
    probe("livenessProbe", live)
    probe("readinessProbe", ready)
    # The endpoint removal needs time to reach kube-proxy and the ingress: either the service
    # keeps its listener open (SHUTDOWN_DELAY_SECONDS) or a preStop sleep holds SIGTERM back.
    pre = c.get("lifecycle", {}).get("preStop", {})
    sleep = pre.get("sleep", {}).get("seconds")
    cmd = pre.get("exec", {}).get("command", [])
    if sleep is None and len(cmd) == 2 and cmd[0] in ("sleep", "/bin/sleep") and cmd[1].isdigit():
        sleep = int(cmd[1])
    sleep = sleep or 0
    check(cm_delay + sleep > 0, f"Deployment: neither SHUTDOWN_DELAY_SECONDS ({cm_delay:g}) nor a "
          f"preStop sleep ({pre}) gives the endpoint removal time")
    tgps = pod_spec.get("terminationGracePeriodSeconds", 30)
    check(tgps > cm_grace + cm_delay + sleep,
          f"terminationGracePeriodSeconds {tgps} is not > SHUTDOWN_GRACE_SECONDS {cm_grace:g} + "
          f"SHUTDOWN_DELAY_SECONDS {cm_delay:g} + preStop {sleep}")
    res = c.get("resources", {})
    for part in ("requests", "limits"):
        check({"cpu", "memory"} <= set(res.get(part, {})), f"Deployment: resources.{part} {res.get(part)}")
    psc, csc = pod_spec.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), "Deployment: not runAsNonRoot")
    check(csc.get("readOnlyRootFilesystem") is True, "Deployment: root filesystem is not read-only")
    check(csc.get("allowPrivilegeEscalation") is False, "Deployment: privilege escalation allowed")
    run_as = csc.get("runAsUser", psc.get("runAsUser"))
    check(run_as == uid and uid not in (None, 0), f"Deployment runAsUser {run_as}, Dockerfile USER {uid}")

    def check_env_sources(what, container):
        refs = [r.get("configMapRef", {}).get("name") for r in container.get("envFrom", [])]
        check(cm.get("metadata", {}).get("name") in refs, f"{what}: does not load the ConfigMap")
        for e in container.get("env", []):
            check(e["name"] in settings, f"{what}: env {e['name']} is not a setting")
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                check(ref.get("name") == secret_name and ref.get("key") in secret_keys,
                      f"{what}: {e['name']} refers to {ref}, not a key of the Secret template")
                check(not ref.get("optional"), f"{what}: {e['name']} from the Secret is optional")
        db = [e for e in container.get("env", []) if e["name"] == "DATABASE_URL"]
        check(bool(db) and "secretKeyRef" in db[0].get("valueFrom", {}),
              f"{what}: DATABASE_URL is not taken from the Secret")

    check_env_sources("Deployment", c)

    def check_signing_keys(what, pod_spec_, container):
        """EdDSA/ES256: every JWT_SIGNING_KEYS file lies in a read-only mount of a Secret
        volume that only the service's user can read (docs/signing-keys.md)."""
        if cm_data.get("JWT_ALGORITHM") not in ("EdDSA", "ES256"):
            return
        files = [f.strip() for f in str(cm_data.get("JWT_SIGNING_KEYS", "")).split(",") if f.strip()]
        check(bool(files), f"{what}: JWT_ALGORITHM={cm_data.get('JWT_ALGORITHM')} without JWT_SIGNING_KEYS")
        volumes = {v.get("name"): v for v in pod_spec_.get("volumes", [])}
        for f in files:
            mounts = [m for m in container.get("volumeMounts", [])
                      if f.startswith(m.get("mountPath", "").rstrip("/") + "/")]
            if not check(len(mounts) == 1, f"{what}: no volume mounted where {f} lies"):
                continue
            m = mounts[0]
            check(m.get("readOnly") is True, f"{what}: the signing-key mount is not read-only")
            v = volumes.get(m.get("name"), {})
            secret = v.get("secret") or next((src.get("secret") for src in
                                              v.get("projected", {}).get("sources", [])
                                              if "secret" in src), None)
            check(secret is not None, f"{what}: {f} does not come from a Secret volume")
            mode = (v.get("projected") or v.get("secret") or {}).get("defaultMode")
            check(mode is not None and mode & 0o077 == 0,
                  f"{what}: signing-key files would be readable by group or others (defaultMode "
                  f"{oct(mode) if mode is not None else 'unset, 0644'}); the service refuses them")
            check("fsGroup" not in pod_spec_.get("securityContext", {}),
                  f"{what}: fsGroup makes the key files group-readable; the service refuses them")
        check(not any(e["name"] == "JWT_SECRET" for e in container.get("env", [])),
              f"{what}: JWT_SECRET is set although {cm_data.get('JWT_ALGORITHM')} does not use it")

    check_signing_keys("Deployment", pod_spec, c)

    services_k8s = kinds.get("Service", [])
    check(len(services_k8s) == 1, f"want one Service, found {len(services_k8s)}")
    svc = services_k8s[0][1] if services_k8s else {}
    selector = svc.get("spec", {}).get("selector", {})
    check(selector and all(pod_labels.get(k) == v for k, v in selector.items()),
          f"Service selector {selector} does not select the Deployment's pods {pod_labels}")
    for p in svc.get("spec", {}).get("ports", []):
        target = named_ports.get(p.get("targetPort"), p.get("targetPort"))
        check(str(target) == port, f"Service targetPort {p.get('targetPort')} is not {port}")

    jobs = kinds.get("Job", [])
    check(len(jobs) == 1, f"want one migration Job, found {len(jobs)}")
    if jobs:
        job_pod = jobs[0][1]["spec"]["template"]
        jc = job_pod["spec"]["containers"][0]
        check(jc.get("args") == ["migrate"] or jc.get("command", [])[-1:] == ["migrate"],
              f"Job does not run `migrate`: {jc.get('args')}")
        check(jc.get("image") == c.get("image"), "Job and Deployment use different images")
        check_env_sources("Job", jc)
        check_signing_keys("Job", job_pod["spec"], jc)
        jl = job_pod.get("metadata", {}).get("labels", {})
        check(not all(jl.get(k) == v for k, v in selector.items()),
              "the Service selector also selects the migration Job's pod")
        check(jc.get("securityContext", {}).get("readOnlyRootFilesystem") is True,
              "Job: root filesystem is not read-only")

    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
        items = kinds.get(kind, [])
        check(len(items) == 1, f"want one {kind}, found {len(items)}")
    for _, hpa in kinds.get("HorizontalPodAutoscaler", []):
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref.get("kind") == "Deployment" and ref.get("name") == dep.get("metadata", {}).get("name"),
              f"HPA targets {ref}")
    for _, pdb in kinds.get("PodDisruptionBudget", []):
        sel = pdb["spec"]["selector"]["matchLabels"]
        check(all(pod_labels.get(k) == v for k, v in sel.items()), f"PDB selector {sel}")
    ann = pod.get("metadata", {}).get("annotations", {})
    if "prometheus.io/port" in ann:
        check(ann["prometheus.io/port"] == port, f"prometheus.io/port {ann['prometheus.io/port']}")

    # ---- documentation -----------------------------------------------------------------------
    with open(os.path.join(root, "deploy", "README.md")) as f:
        deploy_readme = f.read()
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    for text, what in ((deploy_readme, "deploy/README.md"), (readme, "README.md")):
        check(f":{port}" in text or f"port {port}" in text, f"{what} does not name port {port}")
    for needle in (live, ready, "kubectl apply -k deploy/k8s", "docker compose", "migrate"):
        check(needle in deploy_readme, f"deploy/README.md does not mention {needle}")
    check("deploy/README.md" in readme, "README.md does not point at deploy/README.md")
    for m in re.finditer(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)=", deploy_readme):
        check(m.group(1) in settings or m.group(1).startswith("POSTGRES_"),
              f"deploy/README.md sets {m.group(1)}, not a setting")
    with open(os.path.join(root, ".env.example")) as f:
        check(re.search(rf"^PORT={port}$", f.read(), re.M) is not None, f".env.example PORT is not {port}")

    if failures:
        print(f"consistency test FAILED ({len(failures)} checks)")
        return 1
    print(f"consistency test passed in {time.monotonic() - t0:.1f} s: port {port}, probes "
          f"{live} {ready}, {len(cm_data)} ConfigMap + {len(secret_keys)} Secret + "
          f"{len(app.get('environment', {}))} compose settings, all real")
    return 0


if __name__ == "__main__":
    sys.exit(main())

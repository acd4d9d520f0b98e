#!/usr/bin/env bash
# Checks the deployment files against the built programs and their schemas:
#
#   config   deploy/config/*.yaml loaded by the program that reads it (every
#            key known, every value of the right type), boards.yaml parsed
#            by the agent's inventory loader
#   systemd  deploy/systemd/*.service: `systemd-analyze verify` (any warning
#            about our units fails), `systemd-analyze security` exposure at
#            most 4.0, the hardening we promise, and the ExecStart command
#            line and Environment= run through the program's option loader
#   k8s      deploy/k8s/*.yaml: required fields, known keys, ConfigMap and
#            Secret references, Service and PDB selectors, probe ports, the
#            GPU request, resources, the kustomization, and every container's
#            command line, environment and mounted config files run through
#            the program's option loader; the controller runs as one
#            Deployment of 2 or more replicas (RollingUpdate), each with the
#            scheduler enabled (they elect its leader), no probe asks for the
#            leader-only health name, and its PodDisruptionBudget lets one
#            pod go at a time while others stay
#   grafana  deploy/grafana/*.json: dashboard structure, panels, the
#            datasource and template variables every query uses
#            (tests/integration/grafana_dashboard_pgtest.cpp runs the queries)
#
#   deploy/check-deploy.sh [--build DIR] [--controller BIN] [--trainer BIN] [--agent BIN] [PART...]
#
# PART is config, systemd, k8s, grafana or all (the default). The programs
# default to DIR/controller/hilnas-controller etc., DIR defaulting to build/.
# Needs python3 with PyYAML (python3-yaml) and, for systemd, systemd-analyze
# (package systemd); not kubectl. CTest runs each part (label deploy).
set -euo pipefail

die() { echo "check-deploy: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
controller="" trainer="" agent=""
parts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=${2:?--build needs a directory}; shift 2 ;;
        --controller) controller=${2:?--controller needs a path}; shift 2 ;;
        --trainer) trainer=${2:?--trainer needs a path}; shift 2 ;;
        --agent) agent=${2:?--agent needs a path}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        config|systemd|k8s|grafana) parts+=("$1"); shift ;;
        all) parts+=(config systemd k8s grafana); shift ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done
[ ${#parts[@]} -gt 0 ] || parts=(config systemd k8s grafana)
controller=${controller:-$build/controller/hilnas-controller}
trainer=${trainer:-$build/trainer-worker/hilnas-trainer}
agent=${agent:-$build/board-agent/hilnas-agent}
# Units need absolute paths.
controller=$(realpath -m -- "$controller")
trainer=$(realpath -m -- "$trainer")
agent=$(realpath -m -- "$agent")

command -v python3 >/dev/null 2>&1 || die "python3 not found (install python3 and python3-yaml)"
python3 -c 'import yaml' 2>/dev/null || die "python3 cannot import yaml (install python3-yaml)"

need_programs() {
    local p
    for p in "$controller" "$trainer" "$agent"; do
        [ -x "$p" ] || die "$p is not an executable: build it first (cmake --build build) or pass --build DIR"
    done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The checks written in Python (YAML and JSON); the argument names the check.
read -r -d '' checks <<'PY' || true
import json, os, re, shlex, subprocess, sys, tempfile
import yaml

errors = []

def error(where, message):
    errors.append(f"{where}: {message}")

def finish(what):
    for e in errors:
        print(f"check-deploy: {e}", file=sys.stderr)
    if errors:
        print(f"check-deploy: {what}: {len(errors)} problem(s)", file=sys.stderr)
        sys.exit(1)

# Environment variables the programs read that are not options (getenv).
PROGRAM_ENV = {"HILNAS_CONFIG", "HILNAS_FIRMWARE_DIR", "HILNAS_PG_BINDIR"}
SUBCOMMANDS = {"hilnas-trainer": {"work", "train", "info"},
               "hilnas-agent": {"serve", "measure", "probes", "check"},
               "hilnas-controller": {"migrate"}}
# Programs that serve grpc.health.v1.Health (controller/src/server.cpp).
GRPC_HEALTH = {"hilnas-controller"}
# SERVING on the scheduler's leader only (controller/include/hilnas/controller/
# server.h kLeaderHealthName): a probe on it would fail on every follower.
LEADER_HEALTH_NAME = "hilnas.controller.SchedulerLeader"
BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
              "false": False, "0": False, "no": False, "off": False}

def effective_option(argv, env, key):
    """The value of option `key` the program would see, as text (None: the
    default): defaults < config file < environment < flags, as in
    services/common/include/hilnas/common/config.h."""
    value = None
    args = argv[1:]
    config_file = env.get("HILNAS_CONFIG")
    for i, a in enumerate(args):
        if a == "--config" and i + 1 < len(args):
            config_file = args[i + 1]
        elif a.startswith("--config="):
            config_file = a[len("--config="):]
    if config_file and os.path.exists(config_file):
        try:
            conf = yaml.safe_load(open(config_file)) or {}
        except yaml.YAMLError:
            conf = {}
        node, found = conf, True
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                found = False
                break
        if not found and isinstance(conf, dict) and key in conf:
            node, found = conf[key], True
        if found and not isinstance(node, (dict, list)):
            value = ("true" if node else "false") if isinstance(node, bool) else str(node)
    env_name = "HILNAS_" + key.replace(".", "_").upper()
    if env_name in env:
        value = env[env_name]
    spellings = {key, key.replace(".", "-"), key.replace("_", "-"),
                 key.replace(".", "-").replace("_", "-")}
    for a in args:
        name, eq, v = a[2:].partition("=") if a.startswith("--") else ("", "", "")
        if name in spellings:
            value = v if eq else "true"  # a bare boolean flag means true
    return value

def program_env_names(binary, subcommand):
    """The HILNAS_* variables `binary [subcommand] --help` lists as options."""
    argv = [binary] + ([subcommand] if subcommand else []) + ["--help"]
    out = subprocess.run(argv, env={}, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"check-deploy: {' '.join(argv)} failed: {out.stderr.strip()}")
    return set(re.findall(r"\[env (HILNAS_[A-Z0-9_]+)\]", out.stdout))

def load_options(where, binaries, argv, env):
    """Runs the program's option loader (config file, environment, flags) on
    argv + --help: the program exits 0 only when every key, flag and value is valid."""
    name = os.path.basename(argv[0])
    if name not in binaries:
        error(where, f"runs '{argv[0]}', not one of {sorted(binaries)}")
        return
    binary = binaries[name]
    args = argv[1:]
    sub = args[0] if args and args[0] in SUBCOMMANDS.get(name, ()) else ""
    if name == "hilnas-trainer" and not sub:
        sub = "work"
    known = program_env_names(binary, sub)
    for key in env:
        if key.startswith("HILNAS_") and key not in known and key not in PROGRAM_ENV:
            error(where, f"environment variable {key} is not an option of {name} {sub}".rstrip()
                  + " (the program would ignore it)")
    run_env = {k: v for k, v in env.items()}
    out = subprocess.run([binary] + args + ["--help"], env=run_env, capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        error(where, f"{name} refuses its configuration: {out.stderr.strip()}")

# ---------------------------------------------------------------- systemd --
def check_unit_exec(unit_path, config_dir, binaries):
    """The unit's ExecStart and Environment= through the program's option loader,
    with /etc/hilnas/NAME.yaml read from deploy/config/NAME.yaml."""
    text = open(unit_path).read().replace("\\\n", " ")
    where = os.path.basename(unit_path)
    env, execs, keys = {}, [], {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        keys.setdefault((section, key.strip()), []).append(value.strip())
        if section == "[Service]" and key.strip() == "Environment":
            for item in shlex.split(value):
                k, _, v = item.partition("=")
                env[k] = v
        if section == "[Service]" and key.strip() == "ExecStart":
            execs.append(value.strip())
    if len(execs) != 1:
        error(where, f"needs exactly one ExecStart, has {len(execs)}")
        return
    creds = tempfile.mkdtemp()
    argv = []
    for arg in shlex.split(execs[0]):
        arg = arg.replace("${CREDENTIALS_DIRECTORY}", creds)
        m = re.fullmatch(r"/etc/hilnas/([a-z0-9_-]+\.yaml)", arg)
        if m:
            local = os.path.join(config_dir, m.group(1))
            if not os.path.exists(local):
                error(where, f"reads {arg}, but deploy/config/{m.group(1)} (its example) does not exist")
                return
            arg = local
        argv.append(arg)
    load_options(where, binaries, argv, env)
    # The hardening this project promises for every unit.
    def has(key, value=None):
        values = keys.get(("[Service]", key), [])
        return bool(values) if value is None else value in values
    for key, value in [("Restart", "on-failure"), ("NoNewPrivileges", "yes"),
                       ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes")]:
        if not has(key, value):
            error(where, f"[Service] must set {key}={value}")
    if not (has("DynamicUser", "yes") or has("User")):
        error(where, "[Service] must run as DynamicUser=yes or a User=, never root")
    if not keys.get(("[Install]", "WantedBy")):
        error(where, "[Install] needs WantedBy=")
    if os.path.basename(argv[0]) == "hilnas-agent":
        groups = " ".join(keys.get(("[Service]", "SupplementaryGroups"), [])).split()
        for g in ("dialout", "plugdev"):
            if g not in groups:
                error(where, f"the agent needs SupplementaryGroups={g} (serial ports, probes)")

# -------------------------------------------------------------------- k8s --
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
API = {"Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
       "Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1"}
KEYS = {
    "metadata": {"name", "namespace", "labels", "annotations"},
    "Deployment.spec": {"replicas", "selector", "strategy", "template", "minReadySeconds",
                        "revisionHistoryLimit", "progressDeadlineSeconds", "paused"},
    "pod": {"containers", "initContainers", "volumes", "securityContext", "affinity",
            "tolerations", "nodeSelector", "terminationGracePeriodSeconds", "serviceAccountName",
            "automountServiceAccountToken", "topologySpreadConstraints", "priorityClassName",
            "imagePullSecrets", "runtimeClassName", "enableServiceLinks"},
    "container": {"name", "image", "command", "args", "env", "envFrom", "ports", "resources",
                  "livenessProbe", "readinessProbe", "startupProbe", "securityContext",
                  "volumeMounts", "workingDir", "imagePullPolicy", "lifecycle",
                  "terminationMessagePolicy"},
    "probe": {"grpc", "tcpSocket", "httpGet", "exec", "initialDelaySeconds", "periodSeconds",
              "timeoutSeconds", "successThreshold", "failureThreshold",
              "terminationGracePeriodSeconds"},
    "Service.spec": {"type", "selector", "ports", "clusterIP", "sessionAffinity",
                     "publishNotReadyAddresses", "internalTrafficPolicy"},
    "PodDisruptionBudget.spec": {"minAvailable", "maxUnavailable", "selector"},
}

def unknown_keys(where, obj, kind):
    if not isinstance(obj, dict):
        error(where, "must be a mapping")
        return False
    for key in obj:
        if key not in KEYS[kind]:
            error(where, f"unknown field '{key}'")
    return True

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)

def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

def check_k8s(k8s_dir, binaries):
    files = sorted(f for f in os.listdir(k8s_dir) if f.endswith((".yaml", ".yml")))
    if "kustomization.yaml" not in files:
        error(k8s_dir, "has no kustomization.yaml")
        return
    objects = []
    for f in files:
        if f == "kustomization.yaml":
            continue
        try:
            docs = list(yaml.safe_load_all(open(os.path.join(k8s_dir, f))))
        except yaml.YAMLError as e:
            error(f, f"not valid YAML: {e}")
            continue
        for i, doc in enumerate(docs):
            if doc is None:
                continue
            where = f"{f}[{i}]"
            if not isinstance(doc, dict):
                error(where, "a document must be a mapping")
                continue
            kind, api = doc.get("kind"), doc.get("apiVersion")
            if kind not in API:
                error(where, f"kind '{kind}' is not one this check knows ({', '.join(sorted(API))})")
                continue
            if api != API[kind]:
                error(where, f"{kind} needs apiVersion {API[kind]}, not '{api}'")
            meta = doc.get("metadata")
            if not unknown_keys(f"{where}.metadata", meta, "metadata"):
                continue
            name = meta.get("name")
            if not isinstance(name, str) or not DNS1123.match(name) or len(name) > 63:
                error(where, f"metadata.name '{name}' is not a DNS-1123 name")
                continue
            where = f"{f}: {kind}/{name}"
            for k, v in (meta.get("labels") or {}).items():
                if not isinstance(v, str):
                    error(where, f"label {k} must be a string, not {v!r}")
            objects.append((where, f, doc))

    by_kind = {}
    for where, f, doc in objects:
        key = (doc["kind"], doc["metadata"]["name"])
        if key in by_kind:
            error(where, "defined twice")
        by_kind[key] = doc

    def data_keys(kind, name):
        doc = by_kind.get((kind, name))
        if doc is None:
            return None
        return set((doc.get("data") or {}).keys()) | set((doc.get("stringData") or {}).keys())

    for where, f, doc in objects:
        kind = doc["kind"]
        if kind in ("ConfigMap", "Secret"):
            for section in ("data", "stringData"):
                for k, v in (doc.get(section) or {}).items():
                    if not isinstance(v, str):
                        error(where, f"{section}.{k} must be a string")
            if not data_keys(kind, doc["metadata"]["name"]):
                error(where, "holds no data")

    deployments = [(w, d) for w, f, d in objects if d["kind"] == "Deployment"]
    services = [(w, d) for w, f, d in objects if d["kind"] == "Service"]
    gpu_trainers = 0
    controller_replicas = 0
    controller_pod_labels = None
    for where, d in deployments:
        spec = d.get("spec")
        if not unknown_keys(f"{where} spec", spec, "Deployment.spec"):
            continue
        if not is_int(spec.get("replicas")) or spec["replicas"] < 1:
            error(where, "spec.replicas must be a positive integer")
        selector = ((spec.get("selector") or {}).get("matchLabels")) or {}
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not selector:
            error(where, "spec.selector.matchLabels is required")
        elif not matches(selector, labels):
            error(where, "spec.selector.matchLabels does not match spec.template.metadata.labels")
        strategy = spec.get("strategy") or {}
        if d["metadata"]["name"] == "hilnas-controller" and \
                strategy.get("type", "RollingUpdate") != "RollingUpdate":
            error(where, "spec.strategy must be RollingUpdate: the replicas elect the scheduler's "
                         "leader, and Recreate would stop them all (no API, no scheduler) in a rollout")
        pod = template.get("spec")
        if not unknown_keys(f"{where} pod spec", pod, "pod"):
            continue
        volumes = {}
        for v in pod.get("volumes") or []:
            volumes[v.get("name")] = v
            if "configMap" in v:
                name = v["configMap"].get("name")
                keys = data_keys("ConfigMap", name)
                if keys is None:
                    error(where, f"volume {v.get('name')}: no ConfigMap '{name}' in the manifests")
                for item in v["configMap"].get("items") or []:
                    if keys is not None and item.get("key") not in keys:
                        error(where, f"volume {v.get('name')}: ConfigMap {name} has no key '{item.get('key')}'")
            if "secret" in v:
                name = v["secret"].get("secretName")
                if data_keys("Secret", name) is None:
                    error(where, f"volume {v.get('name')}: no Secret '{name}' in the manifests")
        containers = pod.get("containers") or []
        if not containers:
            error(where, "the pod has no containers")
        for c in containers:
            cw = f"{where} container {c.get('name')}"
            if not unknown_keys(cw, c, "container"):
                continue
            if not isinstance(c.get("name"), str) or not DNS1123.match(c["name"]):
                error(cw, "needs a DNS-1123 name")
            if not isinstance(c.get("image"), str) or not c["image"]:
                error(cw, "needs an image")
            ports = {}
            for p in c.get("ports") or []:
                if not is_int(p.get("containerPort")) or not 0 < p["containerPort"] < 65536:
                    error(cw, f"containerPort {p.get('containerPort')!r} is not a port number")
                ports[p.get("containerPort")] = p.get("name")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        error(cw, f"resources.{part}.{r} is required")
            gpu = (res.get("limits") or {}).get("nvidia.com/gpu")
            if gpu is not None:
                req = (res.get("requests") or {}).get("nvidia.com/gpu", gpu)
                if not is_int(gpu) or gpu < 1 or req != gpu:
                    error(cw, "nvidia.com/gpu must be a positive integer, equal in requests and limits")
            # Environment: literal strings, and references that resolve.
            env = {}
            for e in c.get("env") or []:
                name = e.get("name")
                if "value" in e:
                    if not isinstance(e["value"], str):
                        error(cw, f"env {name}: value must be a string (quote it), not {e['value']!r}")
                    env[name] = str(e["value"])
                    continue
                src = e.get("valueFrom") or {}
                if "secretKeyRef" in src or "configMapKeyRef" in src:
                    kind = "Secret" if "secretKeyRef" in src else "ConfigMap"
                    ref = src.get("secretKeyRef") or src.get("configMapKeyRef")
                    keys = data_keys(kind, ref.get("name"))
                    if keys is None:
                        error(cw, f"env {name}: no {kind} '{ref.get('name')}' in the manifests")
                    elif ref.get("key") not in keys:
                        error(cw, f"env {name}: {kind} {ref.get('name')} has no key '{ref.get('key')}'")
                    elif kind == "ConfigMap":
                        env[name] = by_kind[(kind, ref["name"])]["data"][ref["key"]]
                    else:
                        env[name] = "secret-placeholder-for-the-check"
                elif "fieldRef" in src:
                    env[name] = "pod-name-for-the-check"
                else:
                    error(cw, f"env {name}: needs value or valueFrom")
            for e in c.get("envFrom") or []:
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in e and data_keys(kind, e[key].get("name")) is None:
                        error(cw, f"envFrom: no {kind} '{e[key].get('name')}' in the manifests")
            # Mounted ConfigMap files, written out for the option loader.
            mounted = {}
            for m in c.get("volumeMounts") or []:
                v = volumes.get(m.get("name"))
                if v is None:
                    error(cw, f"volumeMount {m.get('name')}: no such volume in the pod")
                    continue
                if "configMap" in v and ("ConfigMap", v["configMap"].get("name")) in by_kind:
                    data = by_kind[("ConfigMap", v["configMap"]["name"])].get("data") or {}
                    items = v["configMap"].get("items") or [{"key": k, "path": k} for k in data]
                    for item in items:
                        if item.get("key") in data:
                            local = os.path.join(tempfile.mkdtemp(), os.path.basename(item["path"]))
                            with open(local, "w") as out:
                                out.write(data[item["key"]])
                            mounted[os.path.join(m["mountPath"], item["path"])] = local
            # Probes: the port exists, and gRPC health only where it is served.
            program = os.path.basename((c.get("command") or [""])[0])
            for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = c.get(probe_name)
                if probe is None:
                    continue
                pw = f"{cw} {probe_name}"
                if not unknown_keys(pw, probe, "probe"):
                    continue
                handlers = [h for h in ("grpc", "tcpSocket", "httpGet", "exec") if h in probe]
                if len(handlers) != 1:
                    error(pw, "needs exactly one of grpc, tcpSocket, httpGet, exec")
                    continue
                h = probe[handlers[0]]
                if handlers[0] == "grpc":
                    if not isinstance(h, dict):
                        error(pw, "grpc must be a mapping")
                        continue
                    for k in h:
                        if k not in ("port", "service"):
                            error(pw, f"grpc: unknown field '{k}'")
                    if h.get("service") == LEADER_HEALTH_NAME:
                        error(pw, f"must not probe {LEADER_HEALTH_NAME}: it is SERVING on the "
                                  "scheduler's leader only, so every follower would fail it")
                    if program not in GRPC_HEALTH:
                        error(pw, f"{program or 'this container'} serves no grpc.health.v1")
                    if not is_int(h.get("port")) or h["port"] not in ports:
                        error(pw, f"grpc port {h.get('port')!r} must be a numeric containerPort")
                elif handlers[0] in ("tcpSocket", "httpGet"):
                    port = h.get("port")
                    if port not in ports and port not in ports.values():
                        error(pw, f"port {port!r} is not a port of the container")
            if "nvidia.com/gpu" in (res.get("limits") or {}) and program == "hilnas-trainer":
                gpu_trainers += 1
            if program == "hilnas-controller":
                if d["metadata"]["name"] != "hilnas-controller":
                    error(cw, "runs hilnas-controller outside Deployment hilnas-controller: its "
                              "replicas elect the scheduler's leader among themselves, no separate "
                              "scheduler Deployment")
                else:
                    controller_replicas = spec.get("replicas") if is_int(spec.get("replicas")) else 0
                    controller_pod_labels = labels
            # The container's command line and environment through the program.
            argv = [mounted.get(a, a) for a in (c.get("command") or []) + (c.get("args") or [])]
            if not argv:
                error(cw, "needs a command (the program to run)")
                continue
            for a in (c.get("command") or []) + (c.get("args") or []):
                if a.startswith("/etc/hilnas/") and a not in mounted:
                    error(cw, f"reads {a}, which no ConfigMap mount provides")
            load_options(cw, binaries, argv, env)
            if program == "hilnas-controller":
                enabled = effective_option(argv, env, "scheduler.enabled")
                if enabled is not None and BOOL_WORDS.get(enabled.strip().lower()) is not True:
                    error(cw, f"scheduler.enabled is {enabled!r}: every replica runs the scheduler "
                              "(one leads, the others take over when it goes)")
    if controller_replicas < 2:
        error("controller", "Deployment hilnas-controller must run at least 2 replicas "
                            "(a follower takes over the scheduler when the leader goes)")
    if gpu_trainers < 1:
        error("trainer", "no Deployment runs hilnas-trainer with an nvidia.com/gpu limit")

    # Services: the selector picks pods, and targetPort is a port of theirs.
    service_ports = {}
    for where, s in services:
        spec = s.get("spec")
        if not unknown_keys(f"{where} spec", spec, "Service.spec"):
            continue
        selected = [d for _, d in deployments
                    if matches(spec.get("selector") or {},
                               ((d["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})]
        if not selected:
            error(where, "spec.selector matches no Deployment's pod labels")
        for p in spec.get("ports") or []:
            if not is_int(p.get("port")):
                error(where, f"port {p.get('port')!r} must be a number")
            target = p.get("targetPort", p.get("port"))
            for d in selected:
                names = {}
                for c in d["spec"]["template"]["spec"].get("containers") or []:
                    for cp in c.get("ports") or []:
                        names[cp.get("containerPort")] = cp.get("name")
                if target not in names and target not in names.values():
                    error(where, f"targetPort {target!r} is not a port of Deployment {d['metadata']['name']}")
            service_ports.setdefault(s["metadata"]["name"], set()).add(p.get("port"))
    controller_pdb = False
    for where, f, doc in objects:
        if doc["kind"] == "PodDisruptionBudget":
            spec = doc.get("spec")
            if not unknown_keys(f"{where} spec", spec, "PodDisruptionBudget.spec"):
                continue
            sel = (spec.get("selector") or {}).get("matchLabels") or {}
            selected = [d for _, d in deployments
                        if matches(sel, ((d["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})]
            if not selected:
                error(where, "spec.selector matches no Deployment's pod labels")
                continue
            if controller_pod_labels is not None and matches(sel, controller_pod_labels):
                controller_pdb = True
            pods = sum(d["spec"]["replicas"] for d in selected if is_int(d["spec"].get("replicas")))
            bounds = [k for k in ("minAvailable", "maxUnavailable") if k in spec]
            if len(bounds) != 1:
                error(where, "needs exactly one of minAvailable, maxUnavailable")
                continue
            n = spec[bounds[0]]
            if not is_int(n):
                error(where, f"{bounds[0]} must be an integer (a count of the {pods} pods it covers)")
                continue
            # minAvailable in [1, pods): one pod may go, one stays; likewise maxUnavailable.
            if pods < 2:
                error(where, f"covers {pods} pod(s): it needs 2 or more, so that one may be "
                             "evicted while another stays")
            elif not 1 <= n < pods:
                error(where, f"{bounds[0]}: {n} with {pods} pods must be from 1 to {pods - 1}: "
                             "at least one pod may be evicted and at least one stays")
    if controller_pod_labels is not None and not controller_pdb:
        error("controller", "no PodDisruptionBudget selects Deployment hilnas-controller's pods")
    # The trainers reach the controller through its Service.
    for (kind, name), doc in by_kind.items():
        if kind != "ConfigMap":
            continue
        for key, text in (doc.get("data") or {}).items():
            if not key.endswith(".yaml"):
                continue
            try:
                conf = yaml.safe_load(text) or {}
            except yaml.YAMLError as e:
                error(f"ConfigMap/{name}", f"{key} is not valid YAML: {e}")
                continue
            address = conf.get("controller") if isinstance(conf, dict) else None
            if isinstance(address, str):
                host, _, port = address.rpartition(":")
                svc = host.split(".")[0]
                if svc not in service_ports or not port.isdigit() or int(port) not in service_ports[svc]:
                    error(f"ConfigMap/{name}", f"{key}: controller {address} is no Service port in the manifests")

    # The kustomization lists every manifest, and its images name ours.
    kus_path = os.path.join(k8s_dir, "kustomization.yaml")
    try:
        kus = yaml.safe_load(open(kus_path)) or {}
    except yaml.YAMLError as e:
        error("kustomization.yaml", f"not valid YAML: {e}")
        return
    if kus.get("apiVersion") != "kustomize.config.k8s.io/v1beta1" or kus.get("kind") != "Kustomization":
        error("kustomization.yaml", "needs apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization")
    resources = kus.get("resources") or []
    for r in resources:
        if not os.path.exists(os.path.join(k8s_dir, r)):
            error("kustomization.yaml", f"resource {r} does not exist")
    for f in files:
        if f != "kustomization.yaml" and f not in resources:
            error("kustomization.yaml", f"does not list {f}")
    images = {c["image"].split(":")[0] for _, d in deployments
              for c in d["spec"]["template"]["spec"].get("containers") or [] if "image" in c}
    for i in kus.get("images") or []:
        if i.get("name") not in images:
            error("kustomization.yaml", f"images: '{i.get('name')}' is the image of no container")
    ns = kus.get("namespace")
    if ns and ("Namespace", ns) not in by_kind:
        error("kustomization.yaml", f"namespace {ns} is not created by the manifests")

# ---------------------------------------------------------------- grafana --
PANEL_TYPES = {"row", "table", "timeseries", "stat", "barchart", "xychart", "bargauge", "gauge",
               "piechart", "text", "state-timeline", "histogram"}
MACROS = {"__timeFilter", "__timeFrom", "__timeTo"}  # the ones the pg test expands
PG = "grafana-postgresql-datasource"

def check_grafana(path):
    where = os.path.basename(path)
    try:
        d = json.load(open(path))
    except (OSError, ValueError) as e:
        error(where, f"not valid JSON: {e}")
        return
    for key, typ in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list),
                     ("templating", dict), ("time", dict)):
        if not isinstance(d.get(key), typ):
            error(where, f"'{key}' must be a {typ.__name__}")
    if errors:
        return
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d["uid"]):
        error(where, "uid must be 1 to 40 letters, digits, - or _")
    variables = {}
    for v in d["templating"].get("list") or []:
        name = v.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"\w+", name) or name in variables:
            error(where, f"template variable name {name!r} is missing, malformed or repeated")
            continue
        variables[name] = v
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != PG:
        error(where, f"needs a template variable 'datasource' of type datasource, query {PG}")
    if "job_id" not in variables or variables["job_id"].get("type") != "query":
        error(where, "needs a template variable 'job_id' of type query")

    def check_sql(w, sql):
        if not isinstance(sql, str) or not sql.strip():
            error(w, "has no SQL")
            return
        for m in re.finditer(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", sql):
            name = m.group(1) or m.group(2) or m.group(3)
            if name.startswith("__"):
                if name not in MACROS:
                    error(w, f"uses macro ${name}, which tests/integration/grafana_dashboard_pgtest.cpp does not expand")
            elif name not in variables:
                error(w, f"uses ${name}, which is no template variable")

    def check_ds(w, ref):
        if not isinstance(ref, dict) or ref.get("type") != PG or ref.get("uid") != "${datasource}":
            error(w, f"datasource must be {{type: {PG}, uid: ${{datasource}}}}")

    for name, v in variables.items():
        if v.get("type") == "query":
            check_ds(f"{where} variable {name}", v.get("datasource"))
            q = v.get("query")
            check_sql(f"{where} variable {name}", q.get("rawSql") if isinstance(q, dict) else q)

    ids, cells = set(), []
    def walk(panels, w):
        for p in panels:
            pw = f"{w} panel {p.get('id')} '{p.get('title')}'"
            if not is_int(p.get("id")) or p["id"] in ids:
                error(pw, "needs a unique integer id")
            ids.add(p.get("id"))
            if p.get("type") not in PANEL_TYPES:
                error(pw, f"type {p.get('type')!r} is not one of {sorted(PANEL_TYPES)}")
            if not isinstance(p.get("title"), str) or not p["title"]:
                error(pw, "needs a title")
            g = p.get("gridPos") or {}
            if not all(is_int(g.get(k)) for k in "xywh") or g["x"] < 0 or g["w"] < 1 or g["h"] < 1 \
                    or g["x"] + g["w"] > 24:
                error(pw, "gridPos needs integers x, y, w, h within 24 columns")
            else:
                cells.append((pw, g))
            if p.get("type") == "row":
                walk(p.get("panels") or [], w)
                continue
            check_ds(pw, p.get("datasource"))
            targets = p.get("targets") or []
            if not targets:
                error(pw, "has no targets (queries)")
            refs = set()
            for t in targets:
                tw = f"{pw} target {t.get('refId')}"
                if not t.get("refId") or t["refId"] in refs:
                    error(tw, "needs a unique refId")
                refs.add(t.get("refId"))
                check_ds(tw, t.get("datasource"))
                if t.get("rawQuery") is not True or t.get("editorMode") != "code":
                    error(tw, "must be a raw SQL query (rawQuery: true, editorMode: code)")
                if t.get("format") not in ("table", "time_series"):
                    error(tw, "format must be table or time_series")
                check_sql(tw, t.get("rawSql"))
                if t.get("format") == "time_series" and not re.search(r'\bAS\s+"?time"?', t.get("rawSql") or ""):
                    error(tw, "a time_series query needs a column named time")
    walk(d["panels"], where)
    for i, (aw, a) in enumerate(cells):
        for bw, b in cells[i + 1:]:
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
                    a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
                error(aw, f"overlaps {bw}")
    text = json.dumps(d)
    for view in ("v_pareto_front", "v_job_hypervolume", "v_board_utilisation", "v_prediction_error"):
        if view not in text:
            error(where, f"no panel reads {view}")

# ------------------------------------------------------------------ main --
what = sys.argv[1]
if what == "unit":
    unit, config_dir = sys.argv[2], sys.argv[3]
    binaries = dict(a.split("=", 1) for a in sys.argv[4:])
    check_unit_exec(unit, config_dir, binaries)
elif what == "k8s":
    binaries = dict(a.split("=", 1) for a in sys.argv[3:])
    check_k8s(sys.argv[2], binaries)
elif what == "grafana":
    for p in sys.argv[2:]:
        check_grafana(p)
finish(what)
PY

programs=()
set_programs() {
    programs=("hilnas-controller=$controller" "hilnas-trainer=$trainer" "hilnas-agent=$agent")
}

check_config() {
    need_programs
    local f name
    for f in "$root"/deploy/config/*.yaml; do
        name=$(basename "$f")
        case "$name" in
            controller.yaml) out=$(env -i "$controller" --config "$f" --help 2>&1 >/dev/null) ;;
            trainer.yaml) out=$(env -i "$trainer" work --config "$f" --help 2>&1 >/dev/null) ;;
            agent.yaml) out=$(env -i "$agent" serve --config "$f" --help 2>&1 >/dev/null) ;;
            boards.yaml)
                # The inventory loader runs before the board is looked up: a
                # valid inventory ends in "no board" for a board id it lacks.
                out=$(env -i "$agent" check --inventory "$f" --board check-deploy/none 2>&1 >/dev/null) || true
                case "$out" in
                    *"no board 'check-deploy/none'"*) out="" ;;
                    *) die "deploy/config/$name: ${out:-the agent accepted a board it does not list}" ;;
                esac ;;
            *) die "deploy/config/$name: no check knows which program reads it (add one here)" ;;
        esac || die "deploy/config/$name: ${out:-refused}"
    done
    echo "check-deploy: config: ok"
}

check_systemd() {
    need_programs
    command -v systemd-analyze >/dev/null 2>&1 ||
        die "systemd-analyze not found: install the systemd package (Debian: apt-get install systemd)"
    set_programs
    local units=() unit name out
    mkdir -p "$tmp/units"
    for unit in "$root"/deploy/systemd/*.service; do
        name=$(basename "$unit")
        # The units start /usr/local/bin/hilnas-*; verify them against the built programs.
        sed -e "s#/usr/local/bin/hilnas-controller#$controller#g" \
            -e "s#/usr/local/bin/hilnas-trainer#$trainer#g" \
            -e "s#/usr/local/bin/hilnas-agent#$agent#g" "$unit" >"$tmp/units/$name"
        units+=("$tmp/units/$name")
    done
    [ ${#units[@]} -ge 3 ] || die "deploy/systemd holds ${#units[@]} units, expected controller, trainer and agent"
    # verify exits 0 on unknown keys and bad values, only warning: any line about our units fails.
    out=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) ||
        die "systemd-analyze verify: $(printf '%s' "$out" | sed "s#$tmp/units/##g" | paste -sd ';' -)"
    local bad
    bad=$(printf '%s\n' "$out" | grep -F -e "$tmp/units" -e "hilnas-" || true)
    [ -z "$bad" ] || die "systemd-analyze verify: $(printf '%s' "$bad" | sed "s#$tmp/units/##g" | paste -sd ';' -)"
    for unit in "${units[@]}"; do
        name=$(basename "$unit")
        out=$(systemd-analyze security --offline=yes --threshold=40 "$unit" 2>&1) ||
            die "$name: exposure above 4.0 (systemd-analyze security): $(printf '%s\n' "$out" | tail -n 1)"
        python3 -c "$checks" unit "$root/deploy/systemd/$name" "$root/deploy/config" "${programs[@]}"
    done
    echo "check-deploy: systemd: ok (${#units[@]} units)"
}

check_k8s() {
    need_programs
    set_programs
    python3 -c "$checks" k8s "$root/deploy/k8s" "${programs[@]}"
    echo "check-deploy: k8s: ok"
}

check_grafana() {
    local dashboards=("$root"/deploy/grafana/*.json)
    [ -e "${dashboards[0]}" ] || die "no dashboards in deploy/grafana"
    python3 -c "$checks" grafana "${dashboards[@]}"
    echo "check-deploy: grafana: ok (${#dashboards[@]} dashboard(s))"
}

for part in "${parts[@]}"; do
    "check_$part"
done

"""The Kubernetes manifests of ``deploy/kubernetes/``, without a cluster.

Every object is validated against the Kubernetes API schemas that ``kubernetes-validate``
ships (offline, strict: an unknown or misspelt field fails); the objects must refer to each
other correctly (selectors, ports, ConfigMap and Secret names, Ingress backends); and they
must run what the rest of the project runs and tests: the commands and images of
``deploy/compose.yml``, the routes of ``deploy/nginx.conf``, the ports, variables, secrets
and health endpoints of ``scripts/prod.py`` and the processes it starts.
"""

from __future__ import annotations

import importlib.util
import inspect
import ipaddress
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from tests.support.stack import ROOT, rasa_python

DEPLOY = ROOT / "deploy"
MANIFESTS = DEPLOY / "kubernetes"
NAMESPACE = "xinfang"
# The Kubernetes versions the manifests are validated against, from the schemas
# kubernetes-validate ships: the oldest release the manifests are written for (CronJob
# timeZone, PodDisruptionBudget policy/v1, Ingress networking.k8s.io/v1) and the newest the
# locked package knows.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
# The placeholder of every value the operations team replaces in the Secret templates.
PLACEHOLDER = "CHANGE-ME"
# Each pod's process and whose secrets it holds (bot.ops.own_secrets roles).
ROLE_OF = {
    "rasa": "rasa",
    "rasa-socketio": "rasa",
    "actions": "actions",
    "backoffice": "backoffice",
    "migrate": "backoffice",
    "retention": "backoffice",
}
DEPLOYMENTS = ("rasa", "rasa-socketio", "actions", "backoffice")
# Resident memory of one Rasa process with this project's model, rounded up (README "Measured
# speed": 716 MB per Sanic worker of the production profile, 821 MB for `make run`'s process).
RASA_PROCESS_BYTES = 850 * 10**6

spec = importlib.util.spec_from_file_location("prod_launcher_k8s", ROOT / "scripts" / "prod.py")
prod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prod)


# --- loading ------------------------------------------------------------------------------------


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")


def load_objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in manifest_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                found.append((path.name, doc))
    return found


OBJECTS = load_objects()
KUSTOMIZATION = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text(encoding="utf-8"))
COMPOSE = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for _, obj in OBJECTS if obj["kind"] == kind}


def obj_id(item: tuple[str, dict[str, Any]]) -> str:
    path, obj = item
    return f"{path}:{obj['kind']}/{obj['metadata']['name']}"


def pod_templates() -> dict[str, dict[str, Any]]:
    """Every pod template, by the component label of its pods."""
    found = {}
    for _, obj in OBJECTS:
        if obj["kind"] in ("Deployment", "Job"):
            template = obj["spec"]["template"]
        elif obj["kind"] == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
        else:
            continue
        found[template["metadata"]["labels"]["app.kubernetes.io/component"]] = template
    return found


def container(name: str) -> dict[str, Any]:
    containers = pod_templates()[name]["spec"]["containers"]
    assert len(containers) == 1, name
    return containers[0]


def env_file(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions, or a Service's plain map)."""
    plain = {k: v for k, v in selector.items() if k not in ("matchLabels", "matchExpressions")}
    wanted = {**plain, **selector.get("matchLabels", {})}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        op = expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "Exists" and value is None:
            return False
        if op == "DoesNotExist" and value is not None:
            return False
    return True


def selected(selector: dict[str, Any]) -> list[str]:
    """The components whose pods ``selector`` selects."""
    return [name for name, t in pod_templates().items() if matches(selector, t["metadata"]["labels"])]


def port_of(ctr: dict[str, Any], port: Any) -> Optional[int]:
    """The container port a probe or Service names (by name or number), or None."""
    for p in ctr.get("ports", []):
        if port in (p.get("name"), p["containerPort"]):
            return p["containerPort"]
    return None


def quantity(value: Any) -> float:
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def probes(ctr: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: ctr[k] for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in ctr}


def probe_port(probe: dict[str, Any]) -> Any:
    return (probe.get("httpGet") or probe.get("tcpSocket"))["port"]


def referenced_secrets(template: dict[str, Any]) -> set[str]:
    spec_ = template["spec"]
    names = {v["secret"]["secretName"] for v in spec_.get("volumes", []) if "secret" in v}
    for ctr in spec_["containers"] + spec_.get("initContainers", []):
        names |= {e["secretRef"]["name"] for e in ctr.get("envFrom", []) if "secretRef" in e}
        names |= {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in ctr.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
    return names


def referenced_configmaps(template: dict[str, Any]) -> set[str]:
    spec_ = template["spec"]
    names = {v["configMap"]["name"] for v in spec_.get("volumes", []) if "configMap" in v}
    for ctr in spec_["containers"] + spec_.get("initContainers", []):
        names |= {e["configMapRef"]["name"] for e in ctr.get("envFrom", []) if "configMapRef" in e}
        names |= {
            e["valueFrom"]["configMapKeyRef"]["name"]
            for e in ctr.get("env", [])
            if "configMapKeyRef" in e.get("valueFrom", {})
        }
    return names


def pod_environ(name: str, secret_values: dict[str, str]) -> dict[str, str]:
    """What the process of pod ``name`` finds in its environment: the ConfigMap, its Secret
    (``secret_values``) and the container's own variables, in Kubernetes' order."""
    ctr = container(name)
    env: dict[str, str] = {}
    for source in ctr.get("envFrom", []):
        if "configMapRef" in source:
            env.update(objects("ConfigMap")[source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            env.update(secret_values)
    env.update({e["name"]: e["value"] for e in ctr.get("env", []) if "value" in e})
    return env


def filled_in(values: dict[str, str]) -> dict[str, str]:
    """A Secret template with every placeholder replaced by a value production accepts."""
    good = {
        "DATABASE_URL": "postgresql://xinfang:pw@db.internal:5432/xinfang",
        "TRACKER_DB_URL": "postgresql://xinfang_tracker:pw@db.internal:5432/xinfang_tracker",
        "REDIS_URL": "redis://:pw@cache.internal:6379/0",
        "ADMIN_PASSWORD": "a-real-staff-password",
    }

    def value(key: str) -> str:
        if key in good:
            return good[key]
        if key.endswith("_KEYS"):
            return Fernet.generate_key().decode()
        return secrets.token_urlsafe(32)

    return {k: (value(k) if v == PLACEHOLDER else v) for k, v in values.items()}


def secret_template(role: str) -> dict[str, str]:
    return objects("Secret")[f"xinfang-{role}"]["stringData"]


def nginx_conf() -> tuple[dict[str, Optional[tuple[str, int]]], str]:
    """deploy/nginx.conf's locations -> (host, port) of their upstream, or None for a
    location that answers 404 itself; and the text without comments."""
    text = re.sub(r"#[^\n]*", "", (DEPLOY / "nginx.conf").read_text(encoding="utf-8"))
    upstreams = {
        name: re.search(r"server\s+([\w.-]+):(\d+)", body).groups()
        for name, body in re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", text)
    }
    locations: dict[str, Optional[tuple[str, int]]] = {}
    for path, body in re.findall(r"location\s+(\S+)\s*\{([^}]*)\}", text):
        proxy = re.search(r"proxy_pass\s+http://(\w+)", body)
        if proxy:
            host, port = upstreams[proxy.group(1)]
            locations[path] = (host, int(port))
        else:
            assert re.search(r"return\s+404", body), path
            locations[path] = None
    return locations, text


def ingress_paths() -> list[tuple[str, str, str, Any]]:
    """(ingress name, path, service, port) of every Ingress rule."""
    found = []
    for name, ing in objects("Ingress").items():
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                svc = p["backend"]["service"]
                port = svc["port"].get("number", svc["port"].get("name"))
                found.append((name, p["path"], svc["name"], port))
    return found


def ingress_route(path: str) -> tuple[str, str, Any]:
    """Where the Ingress sends ``path``: the longest matching Prefix rule, as ingress-nginx
    matches Prefix paths (element-wise: /socket.io/ matches /socket.io and /socket.io/x)."""
    best = None
    for name, prefix, service, port in ingress_paths():
        base = prefix.rstrip("/")
        if base == "" or path == base or path.startswith(base + "/"):
            if best is None or len(base) > len(best[0]):
                best = (base, name, service, port)
    assert best is not None, path
    return best[1], best[2], best[3]


def nginx_route(path: str) -> Optional[tuple[str, int]]:
    locations, _ = nginx_conf()
    prefix = max((p for p in locations if path.startswith(p)), key=len)
    return locations[prefix]


# --- the files and the schemas ------------------------------------------------------------------


def test_the_kustomization_lists_every_manifest_once() -> None:
    resources = KUSTOMIZATION["resources"]
    assert len(resources) == len(set(resources)), "listed twice"
    assert sorted(resources) == [p.name for p in manifest_files()]
    assert KUSTOMIZATION["namespace"] == NAMESPACE


def test_the_pinned_kubernetes_versions_are_shipped_by_the_validator() -> None:
    shipped = kubernetes_validate.utils.all_versions()
    for version in KUBERNETES_VERSIONS:
        assert version in shipped, (version, kubernetes_validate.__version__)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("item", OBJECTS, ids=obj_id)
def test_every_object_is_valid_against_the_kubernetes_schema(item, version: str) -> None:
    path, obj = item
    try:
        validated = kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path)
        pytest.fail(f"{obj_id(item)} against {version}: {where}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(exc.message)
    assert validated == version.rsplit(".", 1)[0]


def test_objects_are_unique_and_in_the_namespace() -> None:
    keys = [(obj["kind"], obj["metadata"]["name"]) for _, obj in OBJECTS]
    assert len(keys) == len(set(keys))
    assert objects("Namespace").keys() == {NAMESPACE}
    for item in OBJECTS:
        if item[1]["kind"] != "Namespace":
            assert item[1]["metadata"].get("namespace") == NAMESPACE, obj_id(item)


# --- the same processes as compose.yml and scripts/prod.py ---------------------------------------


def compose_image(service: str) -> str:
    # A service without `image:` gets compose's default name: <project>-<service>.
    return COMPOSE["services"][service].get("image") or f"{COMPOSE['name']}-{service}"


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_each_deployment_runs_the_image_and_command_of_compose(name: str) -> None:
    assert name in objects("Deployment")
    ctr = container(name)
    # compose's `command` replaces the image's CMD, as `args` does (the images have no
    # ENTRYPOINT); a `command` here would replace an ENTRYPOINT added later.
    assert "command" not in ctr
    assert ctr["args"] == COMPOSE["services"][name]["command"]
    assert ctr["args"] == ["python", "scripts/prod.py", name]
    assert ctr["image"] == compose_image(name)


def test_the_jobs_run_the_launcher_s_migrate_and_the_retention_purge() -> None:
    migrate = container("migrate")
    assert migrate["args"] == ["python", "scripts/prod.py", "migrate"]
    assert "python scripts/prod.py migrate" in prod.__doc__
    assert migrate["image"] == compose_image("backoffice")
    assert objects("Job")["migrate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"

    cron = objects("CronJob")["retention"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    purge = container("retention")
    # compose's retention loop is `python -m bot purge --every 86400`; one run per schedule here.
    assert COMPOSE["services"]["retention"]["command"] == ["python", "scripts/prod.py", "retention"]
    assert '"-m", "bot", "purge", "--every", "86400"' in inspect.getsource(prod.run_retention)
    assert purge["args"] == ["python", "-m", "bot", "purge"]
    assert purge["image"] == COMPOSE["services"]["retention"]["image"]
    assert "python -m bot purge" in (DEPLOY / "compose.yml").read_text(encoding="utf-8")


def test_the_images_have_one_registry_and_tag_setting() -> None:
    images = {ctr["image"] for t in pod_templates().values() for ctr in t["spec"]["containers"]}
    assert images == {"xinfang-rasa", "xinfang-actions", "xinfang-backoffice"}
    assert {entry["name"] for entry in KUSTOMIZATION["images"]} == images
    assert len({entry["newTag"] for entry in KUSTOMIZATION["images"]}) == 1


# --- references between the objects ---------------------------------------------------------------


def test_deployment_selectors_select_their_own_pods_only() -> None:
    for name, dep in objects("Deployment").items():
        assert selected(dep["spec"]["selector"]) == [name]
        assert dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == name


def test_every_service_selects_one_deployment_and_a_port_its_container_has() -> None:
    services = objects("Service")
    assert set(services) == set(DEPLOYMENTS)
    for name, svc in services.items():
        assert selected(svc["spec"]["selector"]) == [name], name
        for port in svc["spec"]["ports"]:
            assert port_of(container(name), port["targetPort"]) is not None, (name, port)


def test_service_ports_are_the_launcher_s_and_compose_s_addresses() -> None:
    from bot.ops import DEFAULTS

    def service_port(name: str) -> int:
        (port,) = objects("Service")[name]["spec"]["ports"]
        assert port_of(container(name), port["targetPort"]) == port["port"]
        return port["port"]

    assert service_port("rasa") == int(DEFAULTS["RASA_PORT"])
    assert service_port("rasa-socketio") == int(DEFAULTS["RASA_SOCKETIO_PORT"])
    assert service_port("actions") == int(DEFAULTS["ACTION_SERVER_PORT"])
    assert service_port("backoffice") == int(DEFAULTS["BACKOFFICE_PORT"])
    # How the processes reach each other (common.env.example, the ConfigMap) names Services.
    data = objects("ConfigMap")["xinfang"]["data"]
    for variable in ("ACTION_ENDPOINT_URL", "BACKOFFICE_URL", "RASA_URL"):
        url = urlsplit(data[variable])
        assert url.hostname in objects("Service"), variable
        assert service_port(url.hostname) == url.port, variable
    # nginx.conf's upstreams are the same names and ports.
    for target in nginx_conf()[0].values():
        if target:
            assert service_port(target[0]) == target[1]


def test_every_configmap_and_secret_a_pod_uses_is_defined() -> None:
    for name, template in pod_templates().items():
        assert referenced_configmaps(template) <= set(objects("ConfigMap")), name
        assert referenced_secrets(template) <= set(objects("Secret")), name
        assert referenced_configmaps(template) == {"xinfang"}, name


def test_every_probe_names_a_port_of_its_container_and_each_deployment_has_all_three() -> None:
    for name in DEPLOYMENTS:
        ctr = container(name)
        assert set(probes(ctr)) == {"startupProbe", "readinessProbe", "livenessProbe"}, name
        for kind, probe in probes(ctr).items():
            assert port_of(ctr, probe_port(probe)) is not None, (name, kind)


def test_the_replicated_deployments_have_a_disruption_budget_that_lets_a_node_drain() -> None:
    budgets = objects("PodDisruptionBudget")
    covered = {}
    for name, pdb in budgets.items():
        (target,) = selected(pdb["spec"]["selector"])
        covered[target] = pdb
    for name, dep in objects("Deployment").items():
        replicas = dep["spec"]["replicas"]
        if replicas >= 2:
            assert name in covered, name
            pdb = covered[name]["spec"]
            allowed = pdb.get("maxUnavailable", replicas - pdb.get("minAvailable", replicas))
            assert 1 <= allowed < replicas, name
        else:
            assert name not in covered, f"{name}: a budget for one replica blocks every drain"


def test_label_selectors_inside_pod_templates_select_their_own_pods() -> None:
    for name, template in pod_templates().items():
        for constraint in template["spec"].get("topologySpreadConstraints", []):
            assert selected(constraint["labelSelector"]) == [name]


def test_network_policies_name_existing_pods_and_ports() -> None:
    for name, policy in objects("NetworkPolicy").items():
        targets = selected(policy["spec"]["podSelector"])
        assert targets, name
        for rule in policy["spec"].get("ingress", []):
            for peer in rule["from"]:
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert selected(peer["podSelector"]), (name, peer)
            for port in rule.get("ports", []):
                for target in targets:
                    assert port_of(container(target), port["port"]) is not None, (name, target)


def test_network_policies_admit_to_each_server_only_its_callers() -> None:
    def callers(component: str) -> set[str]:
        found = set()
        for policy in objects("NetworkPolicy").values():
            if component in selected(policy["spec"]["podSelector"]):
                for rule in policy["spec"].get("ingress", []):
                    for peer in rule["from"]:
                        if "namespaceSelector" in peer:
                            found.add("ingress-controller")
                        else:
                            found |= set(selected(peer["podSelector"]))
        return found

    assert callers("actions") == {"rasa", "rasa-socketio"}
    assert callers("rasa") == {"ingress-controller"}
    assert callers("rasa-socketio") == {"ingress-controller", "backoffice"}
    assert callers("backoffice") == {"ingress-controller", "actions"}
    assert callers("migrate") == callers("retention") == set()


# --- configuration and secrets -----------------------------------------------------------------


def test_the_configmap_holds_common_env_example_and_no_secret() -> None:
    from bot.ops import is_secret_variable

    data = objects("ConfigMap")["xinfang"]["data"]
    common = env_file(DEPLOY / "common.env.example")
    assert common
    for key, value in common.items():
        assert data.get(key) == value, key
    readers = [*sorted((ROOT / "bot" / "settings").glob("*.py")), ROOT / "bot" / "ops.py", ROOT / "scripts" / "prod.py"]
    known = {n for path in readers for n in re.findall(r'"([A-Z][A-Z0-9_]+)"', path.read_text(encoding="utf-8"))}
    assert not [k for k in data if k not in known], "a variable no process reads"
    assert not [k for k in data if is_secret_variable(k)]
    for value in data.values():
        assert isinstance(value, str)
    # The values that depend on the cluster: the public origin is the Ingress host, and the
    # trusted proxies are networks.
    hosts = {rule["host"] for ing in objects("Ingress").values() for rule in ing["spec"]["rules"]}
    assert {urlsplit(data["CHAT_SOCKET_URL"]).hostname} == hosts
    for item in data["TRUSTED_PROXIES"].split(","):
        ipaddress.ip_network(item.strip())


@pytest.mark.parametrize("role", ["rasa", "actions", "backoffice"])
def test_each_secret_template_holds_that_process_s_secrets_and_no_other(role: str) -> None:
    from bot.ops import is_secret_variable, own_secrets

    values = secret_template(role)
    example = env_file(DEPLOY / f"{role}.env.example")
    assert set(example) <= set(values), f"missing from the Secret: {set(example) - set(values)}"
    env = prod.prepare_environ(filled_in(values))
    strangers = [k for k in values if is_secret_variable(k) and k not in own_secrets(role, env)]
    assert not strangers
    # Nothing but placeholders is committed: no value that could be a real secret.
    for key, value in values.items():
        if is_secret_variable(key):
            assert value in (PLACEHOLDER, ""), key


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_each_pod_references_only_its_own_process_s_secret(name: str) -> None:
    assert referenced_secrets(pod_templates()[name]) == {f"xinfang-{ROLE_OF[name]}"}


@pytest.mark.parametrize("name", ["rasa", "rasa-socketio"])
def test_the_internet_facing_rasa_pods_hold_no_back_office_secret(name: str) -> None:
    template = pod_templates()[name]
    assert "xinfang-backoffice" not in yaml.safe_dump(template)
    keys = set().union(*(objects("Secret")[s]["stringData"] for s in referenced_secrets(template)))
    assert not keys & {"DATABASE_URL", "ADMIN_PASSWORD", "BACKOFFICE_ENCRYPTION_KEYS", "BACKOFFICE_HMAC_KEY",
                       "BACKOFFICE_SESSION_SECRET", "BACKOFFICE_SERVICE_TOKEN"}


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_the_shipped_templates_start_nothing(name: str, tmp_path: Path) -> None:
    """Applied as shipped, every process refuses to start (scripts/prod.py's own check)."""
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"the image's model")
    env = {**pod_environ(name, secret_template(ROLE_OF[name])), "RASA_MODEL": str(model)}
    assert prod.role_problems(ROLE_OF[name], prod.prepare_environ(env))


@pytest.mark.parametrize("role", ["rasa", "actions", "backoffice"])
def test_each_placeholder_left_alone_keeps_the_process_from_serving(role: str, tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"the image's model")
    template = secret_template(role)
    filled = filled_in(template)
    for key in [k for k, v in template.items() if v == PLACEHOLDER]:
        # The Deployment of each role is named after it.
        env = {**pod_environ(role, {**filled, key: PLACEHOLDER}), "RASA_MODEL": str(model)}
        problems = prod.role_problems(role, prod.prepare_environ(env))
        # scripts/prod.py refuses every value left as the placeholder (a secret or store URL
        # that still holds it, or a key or URL it leaves malformed), before any connection
        assert problems, key


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_the_filled_in_secrets_pass_the_launcher_s_production_check(name: str, tmp_path: Path) -> None:
    """ConfigMap + Secret + the container's variables are all a process needs in production."""
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"the image's model")
    env = {**pod_environ(name, filled_in(secret_template(ROLE_OF[name]))), "RASA_MODEL": str(model)}
    assert prod.role_problems(ROLE_OF[name], prod.prepare_environ(env)) == []


def test_service_links_are_off_since_kubernetes_would_set_the_launcher_s_port_variables() -> None:
    from bot.ops import DEFAULTS

    # With service links, Kubernetes sets <SERVICE>_PORT=tcp://<ip>:<port> and more for every
    # Service of the namespace: RASA_PORT, RASA_SOCKETIO_PORT and BACKOFFICE_PORT, which
    # scripts/prod.py would take for its listen ports.
    injected = set()
    for svc in objects("Service"):
        prefix = svc.upper().replace("-", "_")
        injected |= {f"{prefix}_PORT", f"{prefix}_SERVICE_HOST", f"{prefix}_SERVICE_PORT"}
    assert injected & set(DEFAULTS) >= {"RASA_PORT", "RASA_SOCKETIO_PORT", "BACKOFFICE_PORT"}
    for name, template in pod_templates().items():
        assert template["spec"].get("enableServiceLinks") is False, name


# --- security and resources ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_pods_are_restricted(name: str) -> None:
    pod = pod_templates()[name]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for ctr in pod["containers"]:
        sec = ctr["securityContext"]
        assert sec["allowPrivilegeEscalation"] is False
        assert sec["readOnlyRootFilesystem"] is True
        assert sec["capabilities"]["drop"] == ["ALL"] and not sec["capabilities"].get("add")
        assert sec.get("privileged") is not True
        # The read-only image gets a writable /tmp of its own.
        (tmp,) = [m for m in ctr["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]]
        for kind in ("cpu", "memory"):
            request = quantity(ctr["resources"]["requests"][kind])
            limit = quantity(ctr["resources"]["limits"][kind])
            assert 0 < request <= limit, (name, kind)


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = objects("Namespace")[NAMESPACE]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_rasa_pods_are_sized_for_one_model_per_sanic_worker() -> None:
    data = objects("ConfigMap")["xinfang"]["data"]
    workers = {"rasa": int(data["SANIC_WORKERS"]), "rasa-socketio": 1}  # prod.py: socket.io = 1
    assert "SANIC_WORKERS" not in {e["name"] for e in container("rasa-socketio").get("env", [])}
    for name, count in workers.items():
        resources = container(name)["resources"]
        assert quantity(resources["requests"]["cpu"]) == count, name
        assert quantity(resources["requests"]["memory"]) >= count * RASA_PROCESS_BYTES, name
        assert quantity(resources["limits"]["memory"]) >= quantity(resources["requests"]["memory"]) + 2**29
        # The Rasa processes write their temporary files and ~/.config under /tmp.
        assert {"name": "HOME", "value": "/tmp"} in container(name)["env"]
    actions = container("actions")["resources"]
    assert quantity(actions["limits"]["cpu"]) >= int(data["ACTION_SERVER_SANIC_WORKERS"])


# --- health endpoints: the ones the processes serve ---------------------------------------------


def http_paths(name: str) -> dict[str, str]:
    return {kind: p["httpGet"]["path"] for kind, p in probes(container(name)).items() if "httpGet" in p}


def test_rasa_probes_ask_the_root_route_that_answers_once_the_model_is_loaded() -> None:
    python = rasa_python()
    if not python.exists():
        pytest.skip(f"no Rasa environment at {python} (make setup)")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    server = (Path(purelib) / "rasa" / "server.py").read_text(encoding="utf-8")
    run = (Path(purelib) / "rasa" / "core" / "run.py").read_text(encoding="utf-8")
    root_route = server[server.index("def add_root_route"):][:600]
    assert '@app.get("/")' in root_route
    assert "server.add_root_route(app)" in run
    # The model is loaded before the Sanic workers serve, so "/" answers only after it.
    assert re.search(r"load_agent_on_start.*?\n\s*\"before_server_start\"", run, re.S)
    for name in ("rasa", "rasa-socketio"):
        paths = http_paths(name)
        assert paths == {"startupProbe": "/", "readinessProbe": "/"}, name
        assert "tcpSocket" in container(name)["livenessProbe"]
        startup = container(name)["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # waits, then loads


def test_action_server_probes_ask_rasa_sdk_s_open_health_route() -> None:
    from rasa_sdk import endpoint

    assert '@app.get("/health")' in inspect.getsource(endpoint.create_app)
    assert set(http_paths("actions").values()) == {"/health"}


async def test_back_office_probes_ask_its_health_routes_and_readiness_checks_the_stores() -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.app import healthz, init_app, readyz
    from bot.settings import load_settings

    app = await init_app(load_settings({}))
    handlers = {}
    for path in set(http_paths("backoffice").values()):
        match = await app.router.resolve(make_mocked_request("GET", path, app=app))
        assert match.http_exception is None, path
        handlers[path] = match.handler
    paths = http_paths("backoffice")
    assert handlers[paths["readinessProbe"]] is readyz  # the database and Redis
    assert handlers[paths["livenessProbe"]] is healthz  # an outage must not restart the pods
    startup = container("backoffice")["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # waits, migrates


# --- the Ingress routes as nginx.conf does -------------------------------------------------------


def test_ingress_backends_are_existing_services_and_ports() -> None:
    services = objects("Service")
    for name, ing in objects("Ingress").items():
        assert ing["spec"]["ingressClassName"] == "nginx"
        hosts = {rule["host"] for rule in ing["spec"]["rules"]}
        assert hosts <= {h for tls in ing["spec"]["tls"] for h in tls["hosts"]}, name
    for name, path, service, port in ingress_paths():
        assert service in services, (name, path)
        ports = services[service]["spec"]["ports"]
        assert any(port in (p["port"], p.get("name")) for p in ports), (name, path, port)


SAMPLE_PATHS = [
    "/",
    "/privacy",
    "/console/",
    "/api/v1/cases",
    "/static/chat/chat.js",
    "/webhooks/wechat/webhook",
    "/webhooks/rest/webhook",
    "/socket.io/?EIO=4&transport=polling",
    "/conversations/x/tracker",
    "/model",
    "/status",
    "/webhook",
]


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_the_ingress_routes_each_path_where_nginx_conf_does(path: str) -> None:
    _, service, port = ingress_route(path)
    expected = nginx_route(path)
    if expected is None:
        # nginx answers 404 itself; ingress-nginx sends the path to the back office, which
        # has no such route (test_the_paths_nginx_refuses_are_unknown_to_the_back_office).
        assert service == "backoffice"
    else:
        assert (service, port) == expected


def test_every_nginx_location_has_an_ingress_rule() -> None:
    locations, _ = nginx_conf()
    rules = {path for _, path, _, _ in ingress_paths()}
    assert set(locations) == rules


async def test_the_paths_nginx_refuses_are_unknown_to_the_back_office() -> None:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from bot.app import init_app
    from bot.settings import load_settings

    app = await init_app(load_settings({}))
    refused = [p for p, target in nginx_conf()[0].items() if target is None]
    assert refused
    for prefix in refused:
        for method in ("GET", "POST"):
            match = await app.router.resolve(make_mocked_request(method, prefix + "webhook", app=app))
            assert isinstance(match.http_exception, web.HTTPNotFound), (method, prefix)


def test_ingress_limits_and_socket_io_affinity_are_those_of_nginx_conf() -> None:
    _, text = nginx_conf()
    rate = int(re.search(r"limit_req_zone\s+\S+\s+zone=\S+\s+rate=(\d+)r/s", text).group(1))
    burst = int(re.search(r"limit_req\s+zone=\S+\s+burst=(\d+)", text).group(1))
    body = re.search(r"client_max_body_size\s+(\S+);", text).group(1)
    read_timeout = re.search(r"proxy_read_timeout\s+(\d+)h;", text).group(1)

    webhooks_read = re.search(r"location /webhooks/ \{[^}]*proxy_read_timeout\s+(\d+)s;", text).group(1)

    webhooks, _, _ = ingress_route("/webhooks/wechat/webhook")
    notes = objects("Ingress")[webhooks]["metadata"]["annotations"]
    # a message whose replica died waits for Rasa's lock lifetime (60 s) before it is answered
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) == int(webhooks_read) > 60
    assert int(notes["nginx.ingress.kubernetes.io/limit-rps"]) == rate
    assert rate * int(notes["nginx.ingress.kubernetes.io/limit-burst-multiplier"]) == burst

    socketio, _, _ = ingress_route("/socket.io/")
    notes = objects("Ingress")[socketio]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= int(read_timeout) * 3600
    assert objects("Service")["rasa-socketio"]["spec"]["sessionAffinity"] == "ClientIP"

    for ing in objects("Ingress").values():
        assert ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == body
        # No snippet annotations: ingress-nginx disables them by default (a security risk).
        assert not [k for k in ing["metadata"]["annotations"] if k.endswith("-snippet")]


# --- kustomize ----------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not installed (the build is checked where it is)")
def test_kustomize_builds_every_object_with_the_release_images() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(MANIFESTS)], capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted(
        (o["kind"], o["metadata"]["name"]) for _, o in OBJECTS
    )
    releases = {e["name"]: f"{e['newName']}:{e['newTag']}" for e in KUSTOMIZATION["images"]}
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE
        for image in re.findall(r"image: (\S+)", yaml.safe_dump(doc)):
            assert image in releases.values(), image

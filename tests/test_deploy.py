"""Checks on the deployment files: deploy/k8s (kustomize) and the compose observability profile."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from mall_shared import metrics
from mall_shared.config import DEFAULT_PORTS, SERVICES

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OBSERVABILITY = ROOT / "deploy" / "observability"


def manifests() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, "every manifest is listed in kustomization.yaml, and only those"
    return [doc for name in listed for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def find(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def container(deployment: dict) -> dict:
    [c] = deployment["spec"]["template"]["spec"]["containers"]
    return c


def test_every_service_has_a_web_and_a_worker_deployment_with_probes_and_a_scaler():
    docs = manifests()
    for s in (*SERVICES, "gateway"):
        web = find(docs, "Deployment", s)
        port = DEFAULT_PORTS.get(s, 8080)
        c = container(web)
        assert c["ports"][0]["containerPort"] == port
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
        assert c["resources"]["requests"]["cpu"], "an HPA on CPU needs a CPU request"
        labels = web["spec"]["template"]["metadata"]["labels"]
        assert web["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert find(docs, "Service", s)["spec"]["selector"].items() <= labels.items()
        hpa = find(docs, "HorizontalPodAutoscaler", s)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": s}
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    for s in SERVICES:
        worker = find(docs, "Deployment", f"{s}-worker")
        c = container(worker)
        port = DEFAULT_PORTS[s] + 100
        assert c["command"] == [f"{s}-worker"]
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
        annotations = worker["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"
        scaler = find(docs, "ScaledObject", f"{s}-worker")
        assert scaler["spec"]["scaleTargetRef"]["name"] == f"{s}-worker"
        [trigger] = scaler["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq" and trigger["metadata"]["queueName"] == f"{s}.events"
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert scaler["spec"]["minReplicaCount"] >= 1, "the worker also relays the outbox: never scaled to zero"
        find(docs, "TriggerAuthentication", trigger["authenticationRef"]["name"])


def test_every_config_and_secret_a_pod_reads_is_defined_or_documented():
    docs = manifests()
    defined = {(d["kind"], d["metadata"]["name"]) for d in docs}
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    readme = (K8S / "README.md").read_text()
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        spec = d["spec"]["template"]["spec"]
        for source in container(d)["envFrom"]:
            kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source else ("Secret",
                                                                                                 source["secretRef"])
            assert (kind, ref["name"]) in defined, (d["metadata"]["name"], kind, ref["name"])
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                assert name in secrets or f"create secret generic {name}" in readme, name
                private = any(i["key"] == "jwt_private.pem" for i in volume["secret"]["items"])
                assert private == (d["metadata"]["name"] == "crm"), "only crm's web process signs tokens"
    auth = find(docs, "TriggerAuthentication", "mall-rabbitmq")
    for ref in auth["spec"]["secretTargetRef"]:
        assert ref["key"] in secrets[ref["name"]]["stringData"]
    needed = {"MALL_BROKER_URL", *(f"{s.upper()}_DATABASE_URL" for s in SERVICES)}
    assert needed <= set(secrets["mall-secrets"]["stringData"])


def test_kustomize_renders_the_manifests_where_kubectl_is_installed():
    if not shutil.which("kubectl"):
        return  # the YAML checks above stand on their own; kubectl only adds kustomize's own validation
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], check=True, capture_output=True, text=True).stdout
    rendered = [d for d in yaml.safe_load_all(out) if d]
    assert len(rendered) == len(manifests())
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {"mall"}


def test_the_observability_profile_is_valid_and_scrapes_every_web_process_and_worker():
    if not shutil.which("docker-compose"):
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (.ci/run installs it)")
        pytest.skip("docker-compose not installed here (apt-get install docker-compose)")
    # The secrets compose requires (make compose-env writes real ones into .env).
    env = {**os.environ, "MALL_ADMIN_PASSWORD": "a", "MALL_POSTGRES_PASSWORD": "p", "MALL_RABBITMQ_PASSWORD": "r",
           **{f"MALL_BUS_PASSWORD_{s.upper()}": s for s in SERVICES}}
    subprocess.run(["docker-compose", "--profile", "observability", "config", "-q"], cwd=ROOT, check=True, env=env)
    names = subprocess.run(["docker-compose", "--profile", "observability", "config", "--services"], cwd=ROOT,
                           check=True, capture_output=True, text=True, env=env).stdout.split()
    assert {"prometheus", "grafana", "jaeger"} <= set(names)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana", "jaeger"):
        assert compose[name]["profiles"] == ["observability"], "kept out of a plain `docker compose up`"
    for s in SERVICES:
        probe = " ".join(compose[f"{s}-worker"]["healthcheck"]["test"])
        assert f":{DEFAULT_PORTS[s] + 100}/healthz" in probe, f"{s}-worker is health-checked on its own port"

    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    targets = {(name, sd["port"]) for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
               for name in sd["names"]}
    for s in SERVICES:
        assert (s, DEFAULT_PORTS[s]) in targets and (f"{s}-worker", DEFAULT_PORTS[s] + 100) in targets
    assert ("gateway", 8080) in targets


def test_the_grafana_dashboard_charts_only_metrics_the_code_exports():
    dashboard = json.loads((OBSERVABILITY / "grafana" / "dashboards" / "mall.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exported = {m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    exported |= {"mall_outbox_backlog", "mall_outbox_oldest_unsent_age_seconds"}  # OutboxCollector
    for expr in exprs:
        for name in re.findall(r"\b(mall_[a-z_]+)", expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert base in exported or base.removesuffix("_total") in exported, name
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ("checkout rate", "checkout latency", "saga step", "outbox backlog", "queue depths",
                  "dead letters", "5xx"):
        assert topic in titles, topic
    provisioned = yaml.safe_load((OBSERVABILITY / "grafana" / "provisioning" / "dashboards" / "mall.yml").read_text())
    assert provisioned["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"

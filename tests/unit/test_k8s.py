"""deploy/k8s (issue #15): every manifest is valid for Kubernetes: the core kinds with
kubernetes-validate (strict), the operators' and KEDA's resources against their published
CRD schemas (tests/fixtures/crds/, taken from the operators' repositories at the commits
named there, descriptions left out), including the fields the API server would silently
prune; and the probes, autoscaling and engines say what motcua needs.
`kubectl kustomize deploy/k8s/overlays/production` renders the overlay (README:
"Kubernetes")."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from motcua.cli import SERVICE_CLASSES, service_class
from motcua.messaging import subscriptions

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
CRDS = Path(__file__).resolve().parents[1] / "fixtures" / "crds"
KUBERNETES_VERSION = "1.30.0"
CRD_KINDS = {"RabbitmqCluster", "Cluster", "ScaledObject", "TriggerAuthentication"}
COMPONENTS = [*SERVICE_CLASSES, "gateway"]


def documents(folder: Path) -> list[dict]:
    docs = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


BASE = documents(K8S / "base")
OVERLAY = documents(K8S / "overlays" / "production")


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in BASE if doc["kind"] == kind}


def test_the_kustomization_lists_every_base_file():
    listed = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in (K8S / "base").glob("*.yaml")
                                    if p.name != "kustomization.yaml")
    overlay = yaml.safe_load((K8S / "overlays" / "production" / "kustomization.yaml").read_text())
    assert "../../base" in overlay["resources"] and overlay["namespace"] == "motcua"


# The overlay's Deployments are patches (only what changes), not whole objects.
CORE = [d for d in BASE if d["kind"] not in CRD_KINDS] + [
    d for d in OVERLAY if d["kind"] not in CRD_KINDS and d["kind"] != "Deployment"]


@pytest.mark.parametrize("doc", CORE, ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_core_manifest_is_valid_kubernetes(doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_each_component_has_a_deployment_with_probes_limits_and_a_migration_wait():
    deployments = by_kind("Deployment")
    assert sorted(deployments) == sorted(f"motcua-{c}" for c in COMPONENTS)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        (init,) = pod["initContainers"]
        assert init["args"][:2] == ["migrate", "--wait"], name  # the image's motcua
        (container,) = pod["containers"]
        assert container["args"] == ["run", name.removeprefix("motcua-")], name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez", name
        assert container["resources"]["requests"] and container["resources"]["limits"], name
        refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
        assert refs == ["motcua-config", "motcua-secrets"], name
        assert {"name": "metrics", "containerPort": 9100} in container["ports"], name


def test_postal_cannot_start_without_vnposts_webhook_secret_in_the_secret():
    # required like the other secrets, but the configuration alone lets postal start
    # without it (it then cannot sign VNPost's webhooks): the pod names the key
    for name, deployment in by_kind("Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        named = [(env["name"], env["valueFrom"]["secretKeyRef"])
                 for container in pod["containers"] for env in container.get("env", [])]
        if name == "motcua-postal":
            assert named == [("MOTCUA_POSTAL_VNPOST_SECRET",
                              {"name": "motcua-secrets", "key": "MOTCUA_POSTAL_VNPOST_SECRET"})]
        else:
            assert named == [], name  # the others read motcua-secrets whole (envFrom)


def test_each_component_has_a_disruption_budget_and_a_service():
    for kind in ("PodDisruptionBudget", "Service"):
        assert sorted(by_kind(kind)) == sorted(f"motcua-{c}" for c in COMPONENTS), kind


def test_the_gateway_scales_on_cpu_and_each_consumer_on_its_own_queues():
    (hpa,) = by_kind("HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "motcua-gateway"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"

    queues: dict[str, set[str]] = {}
    for sub in subscriptions(service_class(p) for p in SERVICE_CLASSES.values()):
        queues.setdefault(sub.service, set()).add(sub.queue)
    scaled = by_kind("ScaledObject")
    assert sorted(scaled) == sorted(f"motcua-{s}" for s in queues)
    auth = by_kind("TriggerAuthentication")
    for service, expected in queues.items():
        spec = scaled[f"motcua-{service}"]["spec"]
        assert spec["scaleTargetRef"]["name"] == f"motcua-{service}"
        assert spec["minReplicaCount"] >= 2
        triggers = spec["triggers"]
        assert {t["metadata"]["queueName"] for t in triggers} == expected, service
        assert all(t["type"] == "rabbitmq" and t["authenticationRef"]["name"] in auth
                   for t in triggers)


def test_the_engines_are_three_node_operator_clusters_with_a_database_per_service():
    (rabbit,) = by_kind("RabbitmqCluster").values()
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1" and rabbit["spec"]["replicas"] == 3
    (postgres,) = by_kind("Cluster").values()
    assert postgres["apiVersion"] == "postgresql.cnpg.io/v1"
    assert postgres["spec"]["instances"] == 3
    initdb = postgres["spec"]["bootstrap"]["initdb"]
    made = {initdb["database"]} | {sql.split()[2] for sql in initdb["postInitSQL"]}
    assert made == {f"motcua_{c}" for c in COMPONENTS}
    (config,) = by_kind("ConfigMap").values()
    assert config["data"]["MOTCUA_QUEUE_TYPE"] == "quorum"
    assert config["data"]["MOTCUA_METRICS_ADDRESS"] == "0.0.0.0:9100"


def test_the_migration_job_runs_motcua_migrate():
    (job,) = by_kind("Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]  # the image's entrypoint is motcua


def crd_schema(doc: dict) -> dict:
    group, version = doc["apiVersion"].split("/")
    published = json.loads((CRDS / f"{group}_{doc['kind']}.json").read_text())
    return published["versions"][version]


def pruned(value: object, schema: dict, path: str = "") -> list[str]:
    """Fields the API server would drop (not in the structural schema): a typo there is
    silently lost, so it fails here."""
    if not isinstance(value, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        if isinstance(value, list) and "items" in schema:
            return [f for i, item in enumerate(value)
                    for f in pruned(item, schema["items"], f"{path}[{i}]")]
        return []
    properties = schema.get("properties")
    if properties is None:
        extra = schema.get("additionalProperties")
        return [f for key, item in value.items()
                for f in pruned(item, extra, f"{path}.{key}")] if isinstance(extra, dict) else []
    found = []
    for key, item in value.items():
        if key not in properties:
            found.append(f"{path}.{key}")
        else:
            found += pruned(item, properties[key], f"{path}.{key}")
    return found


@pytest.mark.parametrize("doc", [d for d in BASE if d["kind"] in CRD_KINDS],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_operator_resource_keeps_to_its_published_crd_schema(doc):
    schema = crd_schema(doc)
    jsonschema.validate(doc, schema)
    assert pruned(doc, schema) == []


def test_a_wrong_field_or_type_in_an_operator_resource_is_caught():
    (rabbit,) = by_kind("RabbitmqCluster").values()
    schema = crd_schema(rabbit)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"metadata": {}, "spec": {"replicas": "three"}}, schema)
    assert pruned({"spec": {"replica": 3}}, schema) == [".spec.replica"]

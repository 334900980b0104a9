"""docker-compose.yml, checked without a Docker engine: valid against the Compose Specification
schema, and the deployment it describes is the one the README promises."""

import json
import re
from pathlib import Path

import yaml
from jsonschema import Draft201909Validator

from mentorflow.settings import Settings

ROOT = Path(__file__).parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]


def test_the_file_is_valid_compose():
    schema = json.loads((Path(__file__).parent / "compose" / "compose_spec.json").read_text())
    errors = sorted(Draft201909Validator(schema).iter_errors(COMPOSE), key=str)
    assert [e.message for e in errors] == []


def test_an_invalid_file_is_caught_by_the_same_check():
    schema = json.loads((Path(__file__).parent / "compose" / "compose_spec.json").read_text())
    broken = {**COMPOSE, "services": {**SERVICES, "worker": {**SERVICES["worker"], "scale": "x"}}}
    assert list(Draft201909Validator(schema).iter_errors(broken))


def test_temporal_runs_on_postgresql_with_its_ui_and_a_separate_app_database():
    assert set(SERVICES) == {
        "temporal-db",
        "temporal",
        "temporal-ui",
        "app-db",
        "migrate",
        "worker",
        "web",
    }
    temporal = SERVICES["temporal"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    assert temporal["environment"]["DB"] == "postgres12"
    assert temporal["environment"]["POSTGRES_SEEDS"] == "temporal-db"
    assert "DEFAULT_NAMESPACE_RETENTION" in temporal["environment"]
    assert "start-dev" not in COMPOSE_TEXT  # not the single-binary dev server
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "@app-db:5432/" in SERVICES["worker"]["environment"]["MENTORFLOW_DATABASE_URL"]


def test_images_are_pinned_and_dependencies_wait_for_health():
    for name, service in SERVICES.items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), name
        one_shot = service.get("restart") == "no"
        assert one_shot or "healthcheck" in service, name
        for dependency, how in service.get("depends_on", {}).items():
            if SERVICES[dependency].get("restart") == "no":  # waits for it to finish well
                assert how == {"condition": "service_completed_successfully"}, (name, dependency)
            else:
                assert how == {"condition": "service_healthy"}, (name, dependency)
                assert "healthcheck" in SERVICES[dependency], dependency


def test_the_worker_scales_and_stops_gracefully():
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker  # replicas do not collide
    assert SERVICES["migrate"]["build"] == "." and (ROOT / "Dockerfile").exists()
    assert worker["image"] == SERVICES["migrate"]["image"]
    assert int(worker["stop_grace_period"].removesuffix("s")) > Settings().shutdown_grace_seconds
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["mentorflow", "worker"]' in dockerfile and "STOPSIGNAL SIGTERM" in dockerfile


def test_secrets_are_required_and_every_setting_is_a_real_one():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_TEXT))
    assert required == {
        "TEMPORAL_DB_PASSWORD",
        "MENTORFLOW_DB_PASSWORD",
        "MENTORFLOW_WORKER_DB_PASSWORD",
        "MENTORFLOW_SMTP_HOST",
        "MENTORFLOW_SECRET_KEY",
        "MENTORFLOW_PUBLIC_URL",
        "MENTORFLOW_CODEC_KEYS",
        "MENTORFLOW_MASTER_KEYS",
    }
    for name, service in SERVICES.items():  # no secret written into the file itself
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|PWD", key) or "@" in str(value):  # or a URL with one
                assert re.search(r"\$\{\w+:[?-]", str(value)), (name, key)
    known = {f"MENTORFLOW_{name.upper()}" for name in Settings.model_fields} | {
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
    }
    for name in ("worker", "web"):
        used = set(SERVICES[name]["environment"])
        assert used <= known, (name, used - known)


def test_workers_log_in_as_a_writer_and_only_migrate_runs_as_the_owner():
    worker, migrate = SERVICES["worker"]["environment"], SERVICES["migrate"]["environment"]
    assert worker["MENTORFLOW_DATABASE_URL"].startswith("postgresql://mentorflow_worker:")
    assert worker["MENTORFLOW_MIGRATE"] == "false"
    assert migrate["MENTORFLOW_DATABASE_URL"].startswith("postgresql://mentorflow:")
    assert SERVICES["migrate"]["command"] == ["mentorflow", "migrate"]
    mounted = "./deploy/app-db-init.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro"
    assert mounted in SERVICES["app-db"]["volumes"]
    init = (ROOT / "deploy" / "app-db-init.sh").read_text()
    assert "CREATE ROLE mentorflow_worker LOGIN" in init and "IN ROLE mentorflow_writer" in init


def test_the_temporal_ui_listens_on_this_host_only_and_cannot_write():
    """The UI's own actions (terminate, signal, reset...) bypass the application's rules: they
    are off, and the UI is reached through this host (an SSO proxy), never straight from outside;
    it decodes payloads with the web app's codec server, sending the staff session cookie."""
    ui = SERVICES["temporal-ui"]
    for port in ui["ports"]:
        assert str(port).startswith("127.0.0.1:"), port
    assert ui["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert ui["environment"]["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    assert "TEMPORAL_CODEC_ENDPOINT" in ui["environment"]
    readme = (ROOT / "README.md").read_text()
    assert "TEMPORAL_DISABLE_WRITE_ACTIONS" in readme and "TEMPORAL_CODEC_ENDPOINT" in readme


def test_the_web_app_runs_the_workers_image_with_their_keys_and_a_healthcheck():
    """Same image as the worker, its health at /healthz, the worker's database login and the
    keys it must share with the worker (links, payloads, people's data keys)."""
    web, worker = SERVICES["web"], SERVICES["worker"]
    assert web["image"] == worker["image"] and web["command"] == ["mentorflow", "web"]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    shared = (
        "MENTORFLOW_DATABASE_URL",
        "MENTORFLOW_SECRET_KEY",
        "MENTORFLOW_CODEC_KEYS",
        "MENTORFLOW_CODEC_KEY_ID",
        "MENTORFLOW_MASTER_KEYS",
        "MENTORFLOW_MASTER_KEY_ID",
        "TEMPORAL_ADDRESS",
        "MENTORFLOW_MIGRATE",
    )
    for name in shared:
        assert web["environment"][name] == worker["environment"][name], name
    assert web["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "temporal": {"condition": "service_healthy"},
    }

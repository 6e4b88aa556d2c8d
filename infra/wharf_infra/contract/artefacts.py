"""The configuration each service runs with, rendered from the facts and one side's endpoints.

Each function here is used by both sides: the Pulumi components put its result into chart values
or a ConfigMap, the native stack writes it to the file the service reads. Credentials are never
part of an artefact: they are references (`${ENV:…}`, `${…}`, `env:`) filled from Secrets on the
cluster and from the stack's credentials file natively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wharf_infra.contract.endpoints import Endpoints
from wharf_infra.contract.facts import (
    COMPUTE_LOG_PREFIX,
    DAGSTER_POSTGRES_SCHEME,
    LOGS_BUCKET,
    WAREHOUSE,
    database,
)
from wharf_infra.contract.superset import SUPERSET_CATALOGS, SUPERSET_TRINO_USER
from wharf_shared.environment import EXCLUSIVE_RUN_TAG

# Environment variables the artefacts reference for credentials; both sides set them.
S3_KEY_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
MARTS_CREDENTIAL_ENV = ("MARTS_USER", "MARTS_PASSWORD")
MARQUEZ_DATABASE_ENV = ("POSTGRES_USER", "POSTGRES_PASSWORD")
DAGSTER_PASSWORD_ENV = "DAGSTER_PG_PASSWORD"  # the name the Dagster chart gives it
NESSIE_S3 = "nessie.catalog.service.s3.default-options"


def properties_text(pairs: dict[str, str]) -> str:
    """A Java `.properties` file (values here never need escaping: they are URLs and names)."""
    return "".join(f"{key}={value}\n" for key, value in pairs.items())


# -- Trino --------------------------------------------------------------------------------------


def trino_catalogs(endpoints: Endpoints) -> dict[str, dict[str, str]]:
    """`lake` (Iceberg REST → Nessie, data in the object store) and `marts` (Postgres)."""
    lake = {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": endpoints.iceberg_uri,
        "iceberg.rest-catalog.warehouse": WAREHOUSE,
        "iceberg.rest-catalog.view-endpoints-enabled": "true",
        "fs.native-s3.enabled": "true",
        "s3.region": endpoints.s3_region,
    }
    if endpoints.s3_endpoint:  # MinIO: static keys; on AWS the pod's role
        lake |= {
            "s3.endpoint": endpoints.s3_endpoint,
            "s3.path-style-access": "true",
            "s3.aws-access-key": f"${{ENV:{S3_KEY_ENV[0]}}}",
            "s3.aws-secret-key": f"${{ENV:{S3_KEY_ENV[1]}}}",
        }
    marts = {
        "connector.name": "postgresql",
        "connection-url": endpoints.jdbc_url("marts"),
        "connection-user": f"${{ENV:{MARTS_CREDENTIAL_ENV[0]}}}",
        "connection-password": f"${{ENV:{MARTS_CREDENTIAL_ENV[1]}}}",
    }
    return {"lake": lake, "marts": marts}


def trino_access_rules() -> dict[str, Any]:
    """Trino's file-based access rules (`rules.json`): Superset's user reads the catalogs its
    dashboards use and writes nothing; the platform's own users (dbt, the code locations) keep full
    access. Trino authenticates no one on the platform's network, so these rules bound what a
    dashboard or SQL Lab query can do, not who may claim a user name."""
    readable = "|".join(SUPERSET_CATALOGS)
    return {
        "catalogs": [
            {"user": SUPERSET_TRINO_USER, "catalog": f"({readable})", "allow": "read-only"},
            {"user": SUPERSET_TRINO_USER, "allow": "none"},
            {"allow": "all"},
        ]
    }


TRINO_RULES_FILE = "rules.json"


# -- Nessie -------------------------------------------------------------------------------------


def nessie_settings(endpoints: Endpoints) -> dict[str, str]:
    """Nessie's own settings: the JDBC2 version store on Postgres and the Iceberg warehouse.

    Credentials (`quarkus.datasource.postgresql.username/password`, the S3 keys) are not here.
    """
    settings = {
        "nessie.version.store.type": "JDBC2",
        "nessie.version.store.persist.jdbc.datasource": "postgresql",
        "quarkus.datasource.postgresql.jdbc.url": endpoints.jdbc_url("nessie"),
        "nessie.catalog.default-warehouse": WAREHOUSE,
        f"nessie.catalog.warehouses.{WAREHOUSE}.location": f"{endpoints.bucket_url(WAREHOUSE)}/",
        "nessie.catalog.object-stores.health-check.enabled": "true",
        f"{NESSIE_S3}.region": endpoints.s3_region,
        # MinIO: a static login (a Secret); AWS: the pod's role.
        f"{NESSIE_S3}.auth-type": "STATIC" if endpoints.s3_endpoint else "APPLICATION_GLOBAL",
    }
    if endpoints.s3_endpoint:
        settings |= {
            f"{NESSIE_S3}.endpoint": endpoints.s3_endpoint,
            f"{NESSIE_S3}.path-style-access": "true",
        }
    return settings


# -- Marquez ------------------------------------------------------------------------------------


def marquez_config(
    endpoints: Endpoints, api_port: int, admin_port: int, bind_host: str | None = None
) -> dict[str, Any]:
    """Marquez's `config.yml`: its database from the environment, search off (wharf runs no
    OpenSearch), migrations on start. Marquez substitutes `${VAR}` from its environment. In a pod
    it listens on every address; natively on `bind_host` (loopback) only."""
    bind = {"bindHost": bind_host} if bind_host else {}
    return {
        "server": {
            "applicationConnectors": [
                {"type": "http", "port": api_port, "httpCompliance": "RFC7230_LEGACY", **bind}
            ],
            "adminConnectors": [{"type": "http", "port": admin_port, **bind}],
        },
        "db": {
            "driverClass": "org.postgresql.Driver",
            "url": endpoints.jdbc_url("marquez"),
            "user": f"${{{MARQUEZ_DATABASE_ENV[0]}}}",
            "password": f"${{{MARQUEZ_DATABASE_ENV[1]}}}",
        },
        "migrateOnStartup": True,
        "graphql": {"enabled": True},
        "search": {"enabled": False},
        "logging": {"level": "INFO", "appenders": [{"type": "console"}]},
    }


# -- Dagster ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstancePolicy:
    """How Dagster's instance runs things: the same on the cluster and natively.

    A run that fails to start (a code server answering slowly, a pod that cannot be scheduled) is
    failed by run monitoring after `start_timeout_seconds` and retried by the daemon.
    """

    max_concurrent_runs: int
    start_timeout_seconds: int = 300
    monitoring_poll_seconds: int = 30
    max_run_retries: int = 2
    daemon_workers: int = 4  # threads each for dequeuing runs, sensors and schedules
    # Runs tagged with this key run one at a time per value: the bioreactor ingest tags each run
    # with its batch, so two runs of one batch never overlap (its check-and-append stays whole).
    exclusive_tag: str = EXCLUSIVE_RUN_TAG
    sensor_ticks_kept_days: int = 7
    failed_ticks_kept_days: int = 30


RUN_COORDINATOR = "QueuedRunCoordinator"
COMPUTE_LOG_MANAGER = "S3ComputeLogManager"


@dataclass(frozen=True)
class DagsterInstance:
    """Dagster's instance, once: `dagster_yaml` renders it for the native stack, the Dagster
    component (`deploy.components.dagster.instance_values`) as the chart's values. The run
    launcher is the one part that differs (K8sRunLauncher on the cluster, the default natively)."""

    postgres_host: str
    postgres_port: int
    logs_bucket: str
    logs_region: str
    logs_endpoint: str | None  # None on AWS S3
    policy: InstancePolicy
    database: str = "dagster"
    user: str = "dagster"
    postgres_scheme: str = DAGSTER_POSTGRES_SCHEME
    logs_prefix: str = COMPUTE_LOG_PREFIX
    telemetry: bool = False

    def tag_concurrency_limits(self) -> list[dict[str, Any]]:
        return [{"key": self.policy.exclusive_tag, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]

    def sensor_ticks_kept(self) -> dict[str, int]:
        kept, failed = self.policy.sensor_ticks_kept_days, self.policy.failed_ticks_kept_days
        return {"skipped": kept, "success": kept, "failure": failed, "started": failed}

    def automation_ticks_kept(self) -> dict[str, int]:
        """Only skipped evaluations are purged: the others are the history of what ran."""
        return {"failure": -1, "skipped": self.policy.sensor_ticks_kept_days, "started": -1, "success": -1}


def dagster_instance(endpoints: Endpoints, policy: InstancePolicy) -> DagsterInstance:
    owner = database("dagster")
    return DagsterInstance(
        postgres_host=endpoints.postgres_host,
        postgres_port=endpoints.postgres_port,
        logs_bucket=endpoints.buckets[LOGS_BUCKET],
        logs_region=endpoints.s3_region,
        logs_endpoint=endpoints.s3_endpoint,
        policy=policy,
        database=owner.name,
        user=owner.owner,
    )


def dagster_yaml(instance: DagsterInstance) -> dict[str, Any]:
    """`dagster.yaml` as the Dagster chart renders it from `instance_values`, without a run launcher."""
    policy = instance.policy
    postgres = {
        "username": instance.user,
        "password": {"env": DAGSTER_PASSWORD_ENV},
        "hostname": instance.postgres_host,
        "db_name": instance.database,
        "port": instance.postgres_port,
        "params": {},
        "scheme": instance.postgres_scheme,
    }

    def storage(module: str, cls: str) -> dict[str, Any]:
        return {"module": module, "class": cls, "config": {"postgres_db": dict(postgres)}}

    compute_logs: dict[str, Any] = {
        "bucket": instance.logs_bucket,
        "prefix": instance.logs_prefix,
        "verify": True,
        "region": instance.logs_region,
    }
    if instance.logs_endpoint:
        compute_logs["endpoint_url"] = instance.logs_endpoint
    threads = {"use_threads": True, "num_workers": policy.daemon_workers}
    return {
        "scheduler": {"module": "dagster.core.scheduler", "class": "DagsterDaemonScheduler"},
        "schedule_storage": storage("dagster_postgres.schedule_storage", "PostgresScheduleStorage"),
        "run_storage": storage("dagster_postgres.run_storage", "PostgresRunStorage"),
        "event_log_storage": storage("dagster_postgres.event_log", "PostgresEventLogStorage"),
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": RUN_COORDINATOR,
            "config": {
                "max_concurrent_runs": policy.max_concurrent_runs,
                "tag_concurrency_limits": instance.tag_concurrency_limits(),
                "dequeue_use_threads": True,
                "dequeue_num_workers": policy.daemon_workers,
            },
        },
        "compute_logs": {
            "module": "dagster_aws.s3.compute_log_manager",
            "class": COMPUTE_LOG_MANAGER,
            "config": compute_logs,
        },
        "run_monitoring": {
            "enabled": True,
            "start_timeout_seconds": policy.start_timeout_seconds,
            "max_resume_run_attempts": 0,
            "poll_interval_seconds": policy.monitoring_poll_seconds,
            "free_slots_after_run_end_seconds": 0,
        },
        "run_retries": {"enabled": True, "max_retries": policy.max_run_retries},
        "sensors": threads,
        "schedules": dict(threads),
        "retention": {
            "sensor": {"purge_after_days": instance.sensor_ticks_kept()},
            "schedule": {"purge_after_days": policy.failed_ticks_kept_days},
            "auto_materialize": {"purge_after_days": instance.automation_ticks_kept()},
        },
        "telemetry": {"enabled": instance.telemetry},
    }

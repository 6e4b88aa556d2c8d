"""OpenLineage events for Dagster runs, named the way Trino's event listener names its datasets.

A wharf asset that is a table has the key `[catalog, schema, table]`, which is the table's Trino
name; lineage derives dataset names from asset keys alone, so Dagster's events and Trino's join in
Marquez. One START, then one COMPLETE or FAIL, is emitted per run by run-status sensors; each
event carries the Dagster run (id, job, code location) as its `dagster_run` facet. Lineage never
holds a run up: an event Marquez cannot take is logged and dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import attr
import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.storage.dagster_run import DagsterRun
from openlineage.client.facet_v2 import RunFacet
from pydantic import Field

from wharf_shared.environment import LINEAGE_JOB_NAMESPACE

TABLE_CATALOGS = frozenset({"lake", "marts"})
PRODUCER = "https://wharf.dev/lineage"


@attr.define
class DagsterRunFacet(RunFacet):
    """Which Dagster run an OpenLineage run is: the key back from Marquez to the Dagster UI."""

    runId: str = attr.field()
    jobName: str = attr.field()
    codeLocation: str = attr.field(default="")

    @staticmethod
    def _get_schema() -> str:
        return f"{PRODUCER}/DagsterRunFacet.json"


def dataset_name(key: dg.AssetKey) -> str | None:
    """The Trino name of a table asset (`catalog.schema.table`), None for other assets."""
    path = key.path
    return ".".join(path) if len(path) == 3 and path[0] in TABLE_CATALOGS else None


class LineageResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Sends OpenLineage run events to Marquez; does nothing when `url` is empty."""

    url: str = Field(default="", description="Marquez base URL; empty disables lineage")
    job_namespace: str = LINEAGE_JOB_NAMESPACE
    dataset_namespace: str = Field(description="trino://host:port, as Trino's listener reports it")

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def emit(
        self,
        *,
        run_id: str,
        job_name: str,
        state: str,
        inputs: Iterable[str],
        outputs: Iterable[str],
        location: str = "",
    ) -> bool:
        """Emit one run event; `state` is START, COMPLETE or FAIL. Returns whether Marquez took it."""
        if not self.enabled:
            return False
        from openlineage.client import OpenLineageClient
        from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        facet = DagsterRunFacet(runId=run_id, jobName=job_name, codeLocation=location, producer=PRODUCER)
        event = RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            producer=PRODUCER,
            run=Run(runId=run_id, facets={"dagster_run": facet}),
            job=Job(namespace=self.job_namespace, name=job_name),
            inputs=[InputDataset(namespace=self.dataset_namespace, name=n) for n in sorted(inputs)],
            outputs=[OutputDataset(namespace=self.dataset_namespace, name=n) for n in sorted(outputs)],
        )
        config = HttpConfig(url=self.url, timeout=10, retry={"total": 0})
        try:
            OpenLineageClient(transport=HttpTransport(config)).emit(event)
        except Exception as error:  # Marquez down or refusing: the run goes on without lineage
            dg.get_dagster_logger().warning(f"OpenLineage {state} for run {run_id} not sent: {error}")
            return False
        return True


def planned_assets(instance: dg.DagsterInstance, run: DagsterRun) -> set[dg.AssetKey]:
    """The assets a run was planned to materialize (recorded when the run is created)."""
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    return {
        key
        for record in records
        if record.event_log_entry.dagster_event
        and (key := record.event_log_entry.dagster_event.asset_key) is not None
    }


def run_datasets(selected: set[dg.AssetKey], graph: BaseAssetGraph[Any]) -> tuple[set[str], set[str]]:
    """(inputs, outputs) of a run: the tables it writes and the tables those are built from."""
    outputs = {name for key in selected if (name := dataset_name(key))}
    parents = {parent for key in selected if graph.has(key) for parent in graph.get(key).parent_keys}
    inputs = {name for key in parents - selected if (name := dataset_name(key))}
    return inputs, outputs


def emit_run_event(
    instance: dg.DagsterInstance,
    run: DagsterRun,
    graph: BaseAssetGraph[Any],
    lineage: LineageResource,
    state: str,
) -> bool:
    """The OpenLineage event of `run` in `state`, with the tables it wrote and read; False when
    nothing was sent (lineage off, Marquez unreachable, or no table among the run's assets)."""
    inputs, outputs = run_datasets(planned_assets(instance, run), graph)
    if not outputs:
        return False
    location = run.remote_job_origin.location_name if run.remote_job_origin else ""
    return lineage.emit(
        run_id=run.run_id,
        job_name=run.job_name,
        state=state,
        inputs=inputs,
        outputs=outputs,
        location=location,
    )


def _lineage_sensor(status: dg.DagsterRunStatus, state: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        run_status=status,
        name=f"openlineage_run_{state.lower()}",
        description=f"Emits the OpenLineage {state} event of every run in this code location.",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=10,
    )
    def emit_lineage(context: dg.RunStatusSensorContext, lineage: LineageResource) -> None:
        repository = context.repository_def
        assert repository is not None, "run-status sensors always run inside a repository"
        run = context.dagster_run
        if emit_run_event(context.instance, run, repository.asset_graph, lineage, state):
            context.log.info(f"OpenLineage {state} for run {run.run_id}")

    return emit_lineage


def lineage_sensors() -> Sequence[dg.SensorDefinition]:
    """The three run-status sensors: one event each at run start, success and failure."""
    return [
        _lineage_sensor(dg.DagsterRunStatus.STARTED, "START"),
        _lineage_sensor(dg.DagsterRunStatus.SUCCESS, "COMPLETE"),
        _lineage_sensor(dg.DagsterRunStatus.FAILURE, "FAIL"),
    ]

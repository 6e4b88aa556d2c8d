"""OpenLineage events for Dagster runs: one job per table asset, named by its table.

A wharf asset that is a table has the key `[catalog, schema, table]`, which is the table's Trino
name; its OpenLineage job carries that name too, and reads the tables its asset depends on. So the
graph in Marquez has one node per table and one per job that builds it, whatever the number of runs
(a job per Dagster run or per Trino query would add nodes with each run), and a run of the analytics
location shows which model read which. Column lineage comes from dbt's compiled SQL (the
`dagster/column_lineage` metadata of each model's materialization). Marquez links a column only to
an input column it knows from the schema the input's producer sent with its COMPLETE. So a run's
events go out producers first; a table's schema (with types) is sent only by the run that wrote it;
a START names no output and an input names no fields (either would add a dataset version or field
rows without types to Marquez, where a column chain could end). Each asset's OpenLineage run is
named by the Dagster run and the asset, and carries the Dagster run (id, job, code location) as its
`dagster_run` facet (not as a parent run: Marquez would name the job `<parent job>.<table>`,
one job per Dagster job building the table). Run-status sensors send a START per table at the run's start
and a COMPLETE or FAIL at its end. Lineage never holds a run up: an event Marquez cannot take is
logged and dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
# The metadata keys dagster-dbt writes a model's columns and their lineage to.
COLUMN_SCHEMA, COLUMN_LINEAGE = "dagster/column_schema", "dagster/column_lineage"
RUN_STATES = ("START", "COMPLETE", "FAIL")


@attr.define
class DagsterRunFacet(RunFacet):
    """Which Dagster run an OpenLineage run is part of: the key back from Marquez to the Dagster UI."""

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


@dataclass(frozen=True)
class DagsterRunRef:
    run_id: str
    job_name: str
    location: str = ""


ColumnSources = Mapping[str, tuple[tuple[str, str], ...]]  # column -> ((input table, its column), ...)


@dataclass(frozen=True)
class TableColumns:
    """What a materialization recorded of its table's columns: (name, type), and their sources."""

    schema: tuple[tuple[str, str], ...] = ()
    sources: ColumnSources = field(default_factory=dict)


@dataclass(frozen=True)
class TableStep:
    """A table asset's part of a Dagster run: the table it writes, the tables it reads, and its
    columns with the input columns each is computed from (where recorded)."""

    table: str
    inputs: frozenset[str]
    columns: TableColumns = field(default_factory=TableColumns)

    def run_id(self, dagster_run_id: str) -> str:
        """The same for the START and the end of one asset in one Dagster run, unique otherwise."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/{dagster_run_id}/{self.table}"))


class LineageResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Sends OpenLineage run events to Marquez; does nothing when `url` is empty."""

    url: str = Field(default="", description="Marquez base URL; empty disables lineage")
    job_namespace: str = LINEAGE_JOB_NAMESPACE
    dataset_namespace: str = Field(description="trino://host:port: the namespace of the tables Trino serves")

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def emit(self, step: TableStep, state: str, dagster_run: DagsterRunRef) -> bool:
        """Emit one run event of `step`'s job; `state` is START, COMPLETE, FAIL or ABORT.
        Returns whether Marquez took it."""
        if not self.enabled:
            return False
        from openlineage.client import OpenLineageClient
        from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        facet = DagsterRunFacet(
            runId=dagster_run.run_id,
            jobName=dagster_run.job_name,
            codeLocation=dagster_run.location,
            producer=PRODUCER,
        )

        output_facets: dict[str, Any] = {}
        if step.columns.schema:
            output_facets["schema"] = schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in step.columns.schema
                ],
                producer=PRODUCER,
            )
        if step.columns.sources:
            output_facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
                fields={
                    column: column_lineage_dataset.Fields(
                        inputFields=[
                            column_lineage_dataset.InputField(
                                namespace=self.dataset_namespace, name=table, field=source
                            )
                            for table, source in sources
                        ]
                    )
                    for column, sources in sorted(step.columns.sources.items())
                },
                producer=PRODUCER,
            )
        event = RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            producer=PRODUCER,
            run=Run(runId=step.run_id(dagster_run.run_id), facets={"dagster_run": facet}),
            job=Job(namespace=self.job_namespace, name=step.table),
            inputs=[
                InputDataset(namespace=self.dataset_namespace, name=name) for name in sorted(step.inputs)
            ],
            outputs=[]
            if state == "START"
            else [OutputDataset(namespace=self.dataset_namespace, name=step.table, facets=output_facets)],
        )
        config = HttpConfig(url=self.url, timeout=10, retry={"total": 0})
        try:
            OpenLineageClient(transport=HttpTransport(config)).emit(event)
        except Exception as error:  # Marquez down or refusing: the run goes on without lineage
            dg.get_dagster_logger().warning(
                f"OpenLineage {state} of {step.table} in run {dagster_run.run_id} not sent: {error}"
            )
            return False
        return True


def _run_records(instance: dg.DagsterInstance, run: DagsterRun, event: dg.DagsterEventType) -> list[Any]:
    return [
        dagster_event
        for record in instance.get_records_for_run(run.run_id, of_type=event).records
        if (dagster_event := record.event_log_entry.dagster_event) is not None
    ]


def planned_assets(instance: dg.DagsterInstance, run: DagsterRun) -> set[dg.AssetKey]:
    """The assets a run was planned to materialize (recorded when the run is created)."""
    planned = _run_records(instance, run, dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    return {key for event in planned if (key := event.asset_key) is not None}


def materialized_columns(instance: dg.DagsterInstance, run: DagsterRun) -> dict[dg.AssetKey, TableColumns]:
    """Per asset the run materialized: the columns and column lineage it recorded (none for most
    assets; dagster-dbt records both for each model)."""
    found: dict[dg.AssetKey, TableColumns] = {}
    for event in _run_records(instance, run, dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = event.event_specific_data.materialization
        schema = materialization.metadata.get(COLUMN_SCHEMA)
        lineage = materialization.metadata.get(COLUMN_LINEAGE)
        deps = lineage.value.deps_by_column if isinstance(lineage, dg.TableColumnLineageMetadataValue) else {}
        found[materialization.asset_key] = TableColumns(
            schema=tuple((c.name, c.type) for c in schema.value.columns)
            if isinstance(schema, dg.TableSchemaMetadataValue)
            else (),
            sources={
                column: sources
                for column, dependencies in deps.items()
                if (
                    sources := tuple(
                        (table, dep.column_name)
                        for dep in dependencies
                        if (table := dataset_name(dep.asset_key)) is not None
                    )
                )
            },
        )
    return found


def table_steps(
    selected: set[dg.AssetKey],
    graph: BaseAssetGraph[Any],
    columns: Mapping[dg.AssetKey, TableColumns] | None = None,
) -> dict[dg.AssetKey, TableStep]:
    """The table assets among `selected`, each with the tables it is built from."""
    steps = {}
    for key in selected:
        table = dataset_name(key)
        if table is None:
            continue
        parents = graph.get(key).parent_keys if graph.has(key) else set()
        inputs = frozenset(name for parent in parents if (name := dataset_name(parent)))
        steps[key] = TableStep(table, inputs, (columns or {}).get(key, TableColumns()))
    return steps


def emit_run_event(
    instance: dg.DagsterInstance,
    run: DagsterRun,
    graph: BaseAssetGraph[Any],
    lineage: LineageResource,
    state: str,
) -> bool:
    """The events of `run` in `state` (START, or the run's end: COMPLETE or FAIL), one per table
    asset it was planned to build, upstream tables first. At the end, each table the run
    materialized is COMPLETE (with its columns and their lineage), one it did not is FAIL in a
    failed run and ABORT in a successful one. False when not every event was sent (lineage off,
    Marquez unreachable, or no table in the run)."""
    if state not in RUN_STATES:
        raise ValueError(f"state {state!r}: expected one of {', '.join(RUN_STATES)}")
    materialized = materialized_columns(instance, run) if state != "START" else {}
    steps = table_steps(planned_assets(instance, run), graph, materialized)
    if not steps:
        return False
    location = run.remote_job_origin.location_name if run.remote_job_origin else ""
    ref = DagsterRunRef(run.run_id, run.job_name, location)

    def step_state(key: dg.AssetKey) -> str:
        if state == "START":
            return state
        if key in materialized:
            return "COMPLETE"
        return "FAIL" if state == "FAIL" else "ABORT"

    order = {key: index for index, key in enumerate(graph.toposorted_asset_keys)}
    ordered = sorted(steps, key=lambda key: (order.get(key, len(order)), steps[key].table))
    return all([lineage.emit(steps[key], step_state(key), ref) for key in ordered])


def _lineage_sensor(status: dg.DagsterRunStatus, state: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        run_status=status,
        name=f"openlineage_run_{state.lower()}",
        description=f"Emits the OpenLineage {state} events of every run in this code location.",
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
    """The three run-status sensors: events at run start, success and failure."""
    return [
        _lineage_sensor(dg.DagsterRunStatus.STARTED, "START"),
        _lineage_sensor(dg.DagsterRunStatus.SUCCESS, "COMPLETE"),
        _lineage_sensor(dg.DagsterRunStatus.FAILURE, "FAIL"),
    ]

"""The sensor that turns each file landing under bioreactor/ into exactly one ingestion run."""

import json
from datetime import datetime

import dagster as dg

from bioreactor.assets import BATCHES, batches, bioreactor_readings
from bioreactor.batch_files import LANDING_PREFIX, RejectedFile, batch_id_of, quarantine
from wharf_shared.landing import LandingObject, LandingStore

MAX_FILES_PER_TICK = 50

ingest_job = dg.define_asset_job(
    "bioreactor_ingest_job", selection=[bioreactor_readings], partitions_def=batches
)


class Cursor:
    """Files are taken in (modified, key) order; the cursor keeps the newest time seen and the keys
    seen at exactly that time, because stores stamp times to the second and two files can share one."""

    def __init__(self, raw: str | None) -> None:
        state = json.loads(raw) if raw else {}
        self.modified = datetime.fromisoformat(state["modified"]) if state.get("modified") else None
        self.keys_at_modified: set[str] = set(state.get("keys", []))

    def is_new(self, obj: LandingObject) -> bool:
        if self.modified is None or obj.modified > self.modified:
            return True
        return obj.modified == self.modified and obj.key not in self.keys_at_modified

    def advance(self, obj: LandingObject) -> None:
        if self.modified != obj.modified:
            self.modified, self.keys_at_modified = obj.modified, set()
        self.keys_at_modified.add(obj.key)

    def serialize(self) -> str:
        return json.dumps(
            {
                "modified": self.modified.isoformat() if self.modified else None,
                "keys": sorted(self.keys_at_modified),
            }
        )


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One ingestion run per new file under landing/bioreactor/.",
)
def bioreactor_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingStore) -> dg.SensorResult:
    cursor = Cursor(context.cursor)
    new_files = [obj for obj in landing.list(LANDING_PREFIX) if cursor.is_new(obj)][:MAX_FILES_PER_TICK]
    run_requests, new_batches = [], []
    for obj in new_files:
        cursor.advance(obj)
        try:
            batch_id = batch_id_of(obj.key)
        except RejectedFile as rejection:  # no batch to run for: quarantine it here and go on
            context.log.warning(f"quarantined {obj.key}: {rejection}")
            quarantine(landing, obj.key, rejection)
            continue
        if batch_id not in new_batches and not context.instance.has_dynamic_partition(BATCHES, batch_id):
            new_batches.append(batch_id)
        run_requests.append(
            dg.RunRequest(
                run_key=f"{obj.key}@{obj.etag}@{obj.modified.isoformat()}",
                partition_key=batch_id,
                run_config={"ops": {bioreactor_readings.node_def.name: {"config": {"key": obj.key}}}},
                tags={"wharf/landing_key": obj.key},
            )
        )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[batches.build_add_request(new_batches)] if new_batches else [],
        cursor=cursor.serialize(),
    )

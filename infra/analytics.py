"""Time series analytics on Timestream for LiveAnalytics, behind the ``timestream`` switch.

Timestream for LiveAnalytics takes no new customers since 20 Jun 2025 and is in maintenance
mode. Deploy with ``-c timestream=false`` where it cannot be used; everything else keeps working.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_timestream as timestream
from constructs import Construct

from infra.nag import acknowledge

MAINTENANCE_REASON = (
    "Timestream for LiveAnalytics is in maintenance mode (no new customers since 2025-06-20); the design card "
    "asks for it, so it is kept behind the 'timestream' switch (-c timestream=false removes it) and nothing else depends on it."
)

DATABASE_NAME = "UserJourneyAnalytics"
TABLE_NAME = "JourneyEvents"


class JourneyAnalytics(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.database = timestream.CfnDatabase(self, "Database", database_name=f"{DATABASE_NAME}-{stage}", kms_key_id=key.key_arn)
        self.table = timestream.CfnTable(
            self,
            "Table",
            database_name=self.database.ref,
            table_name=TABLE_NAME,
            retention_properties={"MemoryStoreRetentionPeriodInHours": "24", "MagneticStoreRetentionPeriodInDays": "365"},
        )
        for resource in (self.database, self.table):
            acknowledge(resource, "CloudFormation-Validate::W3697", MAINTENANCE_REASON)

"""The workflows one ``exchange worker`` runs, in one place: :func:`build_worker_app`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import faust

from exchange.rules.chief_responsibility import load_chief_rules
from exchange.rules.cold_cases import load_cold_case_rules
from exchange.rules.dna import load_dna_rules
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.rules.referral_rules import load_referral_rules
from exchange.rules.unknown_origin import load_unknown_origin_rules
from exchange.settings import KafkaSettings
from exchange.workflows.alerting import AlertWorkflow
from exchange.workflows.chief_responsibility import ChiefResponsibilityWorkflow
from exchange.workflows.cold_cases import ColdCaseWorkflow
from exchange.workflows.dna import DnaWorkflow
from exchange.workflows.infants import InfantWorkflow
from exchange.workflows.lookback import SIGHTINGS_TOPIC, SightingLog
from exchange.workflows.matching import MatchingWorkflow
from exchange.workflows.referrals import ReferralWorkflow
from exchange.workflows.revocations import RevocationWorkflow
from exchange.workflows.runtime import Workflow, WorkflowContext, create_app
from exchange.workflows.sightings import SightingWorkflow
from exchange.workflows.tips import TipWorkflow
from exchange.workflows.unknown_origin import UnknownOriginWorkflow


def standard_workflows(context: WorkflowContext, kafka: KafkaSettings) -> list[Workflow]:
    """Every workflow of the rules, with the reference data of the topology."""
    topology = context.topology
    jurisdiction = load_jurisdiction()
    earlier = SightingLog(kafka, topology.topic(SIGHTINGS_TOPIC).partitions)
    return [
        partial(SightingWorkflow, jurisdiction=jurisdiction),
        partial(AlertWorkflow, jurisdiction=jurisdiction),
        partial(MatchingWorkflow, earlier=earlier),
        partial(
            ReferralWorkflow, jurisdiction=jurisdiction,
            rules=load_referral_rules(topology=topology),
        ),
        RevocationWorkflow,
        InfantWorkflow,
        partial(TipWorkflow, jurisdiction=jurisdiction),
        partial(
            UnknownOriginWorkflow, jurisdiction=jurisdiction,
            rules=load_unknown_origin_rules(),
        ),
        partial(DnaWorkflow, rules=load_dna_rules()),
        partial(ColdCaseWorkflow, rules=load_cold_case_rules()),
        partial(ChiefResponsibilityWorkflow, rules=load_chief_rules()),
    ]


def build_worker_app(
    kafka: KafkaSettings, context: WorkflowContext, *, app_id: str, datadir: Path,
    replication_cap: int | None = None,
) -> faust.App:
    """The worker's faust app, running :func:`standard_workflows` as ``kafka``'s principal."""
    return create_app(
        kafka, context, app_id=app_id, datadir=datadir, replication_cap=replication_cap,
        workflows=standard_workflows(context, kafka),
    )

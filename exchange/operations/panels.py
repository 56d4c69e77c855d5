"""The panels of the Grafana dashboards, one list per dashboard (rendered by
:mod:`exchange.operations.dashboards`). Fault panels end in ``or vector(0)``: a healthy bus
shows 0, not "No data", and a query that names a wrong metric is still caught by the test that
every registered metric is used and every used name is registered."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DASHBOARDS", "DELIBERATELY_UNUSED", "Panel"]


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[str, ...]
    unit: str = "short"
    legend: str = ""
    kind: str = "timeseries"


def p(title: str, *exprs: str, unit: str = "short", legend: str = "", kind: str = "timeseries"
      ) -> Panel:  # fmt: skip
    return Panel(title, exprs, unit, legend, kind)


OVERVIEW = [
    p("Events published per second, by topic", "sum by (topic) (exchange:events_published:rate5m)",
      unit="ops", legend="{{topic}}"),
    p("Events consumed per second, by topic and agency",
      "sum by (topic, agency) (exchange:events_consumed:rate5m)", unit="ops",
      legend="{{agency}} {{topic}}"),
    p("Handling time p95, by topic", "max by (topic) (exchange:handle_seconds:p95)", unit="s",
      legend="{{topic}}"),
    p("Publish time p95 (to broker acknowledgement), by topic",
      "max by (topic) (exchange:publish_seconds:p95)", unit="s", legend="{{topic}}"),
    p("Dead letters in the last 15 minutes, by agency",
      "exchange:dead_lettered:new15m or vector(0)", legend="{{agency}}"),
    p("Publish errors per second, by agency and error",
      "sum by (agency, error) (exchange:publish_errors:rate5m) or vector(0)", unit="ops",
      legend="{{agency}} {{error}}"),
    p("Events refused to their sender per second, by type",
      "sum by (type, agency) (exchange:events_refused:rate5m) or vector(0)", unit="ops",
      legend="{{agency}} {{type}}"),
    p("Processes up, by job", "sum by (job) (up)", legend="{{job}}"),
]

WORKFLOWS = [
    p("Sightings routed in the last hour, by unit and rule",
      "sum by (unit, rule) (increase(exchange_sightings_routed_total[1h]))",
      legend="{{unit}} ({{rule}})"),
    p("Sightings flagged for a person to look at, by rule",
      "sum by (rule) (increase(exchange_sightings_flagged_total[1h])) or vector(0)",
      legend="{{rule}}"),
    p("Sighting to dispatch p50 and p95 (publication to leaving the worker), by kind",
      "exchange:sighting_dispatch_seconds:p50", "exchange:sighting_dispatch_seconds:p95",
      unit="s", legend="{{kind}}"),
    p("Acknowledgement time p50 and p95, by dispatch kind", "exchange:dispatch_ack_seconds:p50",
      "exchange:dispatch_ack_seconds:p95", unit="s", legend="{{kind}}"),
    p("Acknowledgements in the last hour, on time or late",
      "sum by (timeliness) (increase(exchange_dispatch_acknowledgements_total[1h]))",
      legend="{{timeliness}}"),
    p("Dispatches escalated to the command centre (10 minutes), by unit",
      "exchange:dispatch_escalations:new10m or vector(0)", legend="{{unit}}"),
    p("Emergency alert messages, by CAP msgType and radius (km)",
      "sum by (msg_type, radius_km) (increase(exchange_alerts_issued_total[1h])) or vector(0)",
      legend="{{msg_type}} {{radius_km}} km"),
    p("Candidate matches, by case owner",
      "sum by (agency) (increase(exchange_candidate_matches_total[1h])) or vector(0)",
      legend="{{agency}}"),
    p("New cases compared with earlier sightings, by outcome",
      "sum by (outcome) (increase(exchange_case_lookbacks_total[1h])) or vector(0)",
      legend="{{outcome}}"),
    p("Workflow consumer lag (seconds), by group",
      'max by (group) (kafka_consumergroup_group_max_lag_seconds{group=~"workflows[.].+"})',
      unit="s", legend="{{group}}"),
    p("Duplicates skipped and positions rewound",
      "sum(increase(exchange_workflow_duplicates_total[1h])) or vector(0)",
      "sum(exchange:workflow_rewinds:new6h) or vector(0)"),
    p("Compliance alerts, by kind",
      "sum by (kind) (increase(exchange_compliance_alerts_total[1d])) or vector(0)",
      legend="{{kind}}"),
    p("Intermediary decisions, tips routed and rewards",
      "sum by (action) (increase(exchange_intermediary_decisions_total[1d])) or vector(0)",
      "sum by (rule) (increase(exchange_tips_routed_total[1d])) or vector(0)",
      "sum by (channel) (increase(exchange_tip_rewards_eligible_total[1d])) or vector(0)"),
]

REFERRALS = [
    p("Referrals issued today, by agency and purpose",
      "sum by (agency, purpose) (increase(exchange_referrals_issued_total[1d])) or vector(0)",
      legend="{{agency}} {{purpose}}"),
    p("Referral steps today, by agency and status",
      "sum by (agency, status) (increase(exchange_referral_steps_total[1d])) or vector(0)",
      legend="{{agency}} {{status}}"),
    p("Referrals open, by receiving agency",
      "sum by (agency) (exchange_referrals_open) or vector(0)", legend="{{agency}}"),
    p("Referral time from issue to each step p50 (7 days), by agency and step",
      "histogram_quantile(0.5, sum by (le, agency, status) "
      "(rate(exchange_referral_handle_seconds_bucket[7d]))) or vector(0)", unit="s",
      legend="{{agency}} {{status}}"),
    p("Referrals overdue and escalated (hour), by agency",
      "exchange:referrals_overdue:new1h or vector(0)", legend="{{agency}}"),
    p("Follow-up visits recorded and missed, by agency",
      "sum by (agency) (increase(exchange_follow_up_visits_total[1d])) or vector(0)",
      "exchange:follow_up_visits_missed:new1h or vector(0)", legend="{{agency}}"),
    p("Yearly reports written, units flagged, failed runs",
      "sum by (level) (exchange_reports_written_total) or vector(0)",
      "exchange:report_flags:new1d or vector(0)",
      "sum(increase(exchange_report_failures_total[1h])) or vector(0)", legend="{{level}}"),
]

CONNECTORS = [
    p("Connectors up", 'up{job="exchange-connector"} or vector(0)', legend="{{instance}}"),
    p("Records moved per second, by connector and outcome",
      "sum by (connector, outcome) (rate(exchange_connector_records_total[5m])) or vector(0)",
      unit="ops", legend="{{connector}} {{outcome}}"),
    p("Errors and retries per second, by connector",
      "sum by (connector, error) (exchange:connector_errors:rate5m) or vector(0)",
      "sum by (connector) (rate(exchange_connector_retries_total[5m])) or vector(0)",
      unit="ops", legend="{{connector}} {{error}}"),
    p("Time to move a record p95, by connector",
      "histogram_quantile(0.95, sum by (le, connector) "
      "(rate(exchange_connector_seconds_bucket[5m]))) or vector(0)", unit="s",
      legend="{{connector}}"),
]

PROTECTION = [
    p("Events quarantined (10 minutes), by agency and reason",
      "exchange:quarantined:new10m or vector(0)", legend="{{agency}} {{reason}}"),
    p("Records in each quarantine topic",
      'sum by (topic) (kafka_partition_latest_offset{topic=~"exchange[.]quarantine[.].+"})',
      legend="{{topic}}"),
    p("Records in each dead-letter topic",
      'sum by (topic) (kafka_partition_latest_offset{topic=~"exchange[.]deadletter[.].+"})',
      legend="{{topic}}"),
    p("Audit records appended per second",
      'sum(rate(kafka_partition_latest_offset{topic="exchange.audit"}[5m]))', unit="ops"),
    p("Audit: oldest checkpoint not anchored, records not written (seconds), by agency",
      "max by (agency) (exchange_audit_unanchored_seconds) or vector(0)",
      "max by (agency) (exchange_audit_unwritten_seconds) or vector(0)", unit="s",
      legend="{{agency}}"),
    p("Audit fail-closed (1: refusing new events) and events refused, by agency",
      "max by (agency) (exchange_audit_fail_closed) or vector(0)",
      "sum by (agency) (increase(exchange_audit_refused_total[1h])) or vector(0)",
      legend="{{agency}}"),
    p("Notary: anchors, rejected checkpoints, TSA failures, pending checkpoints",
      "sum(increase(exchange_notary_anchors_total[1h])) or vector(0)",
      "sum(increase(exchange_notary_rejected_checkpoints_total[1h])) or vector(0)",
      "sum(increase(exchange_notary_tsa_failures_total[1h])) or vector(0)",
      "sum(exchange_notary_pending_checkpoints) or vector(0)"),
]

KAFKA = [
    p("TLS certificates: days until expiry, by role and where read",
      "min by (role, source) (exchange_tls_certificate_expiry_seconds) / 86400", unit="d",
      legend="{{role}} {{source}}"),
    p("Brokers up and active controllers", 'sum(up{job="kafka"})',
      "sum(kafka_controller_kafkacontroller_activecontrollercount)"),
    p("Under-replicated and offline partitions",
      "sum(kafka_server_replicamanager_underreplicatedpartitions)",
      "max(kafka_controller_kafkacontroller_offlinepartitionscount)"),
    p("Partitions and leaders per broker", "kafka_server_replicamanager_partitioncount",
      "kafka_server_replicamanager_leadercount", legend="{{instance}}"),
    p("ISR shrinks and expands per second",
      "sum by (instance) (rate(kafka_server_replicamanager_isrshrinks_total[5m]))",
      "sum by (instance) (rate(kafka_server_replicamanager_isrexpands_total[5m]))",
      unit="ops", legend="{{instance}}"),
    p("Messages in per second, by topic", "kafka:messages_in:rate5m", unit="ops",
      legend="{{topic}}"),
    p("Bytes in and out per second, by topic", "kafka:bytes_in:rate5m", "kafka:bytes_out:rate5m",
      unit="Bps", legend="{{topic}}"),
    p("Requests per second, by request", "kafka:requests:rate5m", unit="ops",
      legend="{{request}}"),
    p("Request time p99, by request",
      'max by (request) (kafka_network_requestmetrics_totaltimems{quantile="0.99"})',
      unit="ms", legend="{{request}}"),
    p("Disk used, by topic", "kafka:log_size_bytes:sum", unit="bytes", legend="{{topic}}"),
    p("Consumer group lag (records), by group", "kafka:consumergroup_lag:sum",
      legend="{{group}}"),
    p("Consumer group lag (seconds), by group", "kafka:consumergroup_lag_seconds:max", unit="s",
      legend="{{group}}"),
    p("Lag per topic and members, by group", "kafka_consumergroup_group_topic_sum_lag",
      "kafka_consumergroup_members", legend="{{group}} {{topic}}"),
    p("Lag of the worst partition, by group (records)", "kafka_consumergroup_group_max_lag",
      legend="{{group}}"),
    p("Partitions' lag and committed offsets (worst 10)",
      "topk(10, kafka_consumergroup_group_lag)",
      "topk(10, kafka_consumergroup_group_offset)", legend="{{group}} {{topic}}/{{partition}}"),
    p("Partitions' lag in seconds (worst 10)", "topk(10, kafka_consumergroup_group_lag_seconds)",
      unit="s", legend="{{group}} {{topic}}/{{partition}}"),
    p("Records retained, by topic",
      "sum by (topic) (kafka_partition_latest_offset - kafka_partition_earliest_offset)",
      legend="{{topic}}"),
    p("Lag monitor: poll time and failed polls", "kafka_consumergroup_poll_time_ms",
      "sum(increase(kafka_lag_monitor_poll_errors_total[1h])) or vector(0)", unit="ms"),
]

DASHBOARDS: dict[str, tuple[str, list[Panel]]] = {
    "overview": ("Exchange bus: overview (rate, errors, duration)", OVERVIEW),
    "workflows": ("Exchange bus: workflows (sightings, alerts, matches)", WORKFLOWS),
    "referrals": ("Exchange bus: referrals and reports", REFERRALS),
    "connectors": ("Exchange bus: connectors", CONNECTORS),
    "protection": ("Exchange bus: protection and audit", PROTECTION),
    "kafka": ("Exchange bus: Kafka brokers and consumer lag", KAFKA),
}

DELIBERATELY_UNUSED = {
    "exchange_consumer_lag_records": "each consumer's own view of its lag; the dashboards and "
    "alerts use the lag monitor's kafka_consumergroup_group_lag, which sees every group, even "
    "one whose consumers are all down",
}

"""Settings of the monitoring stack that ``exchange monitoring up`` runs beside the broker."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MonitoringSettings"]


class MonitoringSettings(BaseModel):
    """``EXCHANGE_MONITORING__...`` (read by the CLI only). Ports stay clear of the local
    broker's (19092-19093, metrics 19142)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prometheus_port: int = Field(19190, gt=0, lt=65536)
    alertmanager_port: int = Field(19193, gt=0, lt=65536)
    monitor_port: int = Field(19308, gt=0, lt=65536, description="`exchange monitor`'s port.")
    scrape_interval_s: float = Field(15.0, gt=0)
    evaluation_interval_s: float = Field(15.0, gt=0)
    retention: str = Field("15d", pattern=r"^\d+[smhdwy]$", description="Prometheus TSDB.")
    webhook_url: str | None = Field(
        None,
        description="Base URL of the webhook that receives the alerts (Alertmanager appends "
        "/oncall, /operators or /agency/<id>); none: alerts are only shown in Alertmanager.",
    )
    static_targets: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Extra host:port targets per job (e.g. workers on other machines), beside "
        "the processes that announce themselves.",
    )

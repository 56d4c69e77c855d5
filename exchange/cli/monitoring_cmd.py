"""``exchange monitoring up|down|status|config|forget``: Prometheus, Alertmanager and the lag
monitor beside the local broker (see :mod:`exchange.operations.stack`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.cli import context
from exchange.operations.assets import rule_files
from exchange.operations.scrape import ScrapePlan, alertmanager_config, prometheus_config
from exchange.operations.settings import MonitoringSettings
from exchange.operations.stack import MonitoringStack
from exchange.operations.targets import JOBS, announced, forget


class _FromEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXCHANGE_", env_nested_delimiter="__",
                                      extra="ignore")  # fmt: skip
    monitoring: MonitoringSettings = MonitoringSettings()


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "monitoring",
        help="run Prometheus, Alertmanager and the lag monitor beside the local broker",
        description=(
            "Run a real Prometheus (scraping the brokers' JMX exporter, every worker, connector "
            "and report service that announced itself, and the lag monitor; with the bus's "
            "alerting rules) and Alertmanager (routing by severity and agency), and "
            "`exchange monitor`, all on loopback, data under <state>/monitoring. Ports and the "
            "alert webhook: EXCHANGE_MONITORING__... (see exchange/operations/settings.py)."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("up", help="start (or reconfigure) the stack").set_defaults(run=_up)
    actions.add_parser("down", help="stop the stack").set_defaults(run=_down)
    actions.add_parser("status", help="show what runs and the announced targets").set_defaults(
        run=_status)  # fmt: skip
    config = actions.add_parser("config", help="write prometheus.yml and alertmanager.yml "
                                "(for your own Prometheus) into DIR")  # fmt: skip
    config.add_argument("out", type=Path, metavar="DIR")
    config.set_defaults(run=_config)
    fired = actions.add_parser("alerts", help="the alerts that fired in the last minutes")
    fired.add_argument("--minutes", type=float, default=30.0,
                       help="look back this many minutes (default 30)")  # fmt: skip
    fired.set_defaults(run=_alerts)
    drop = actions.add_parser("forget", help="forget a target stopped for good (JOB HOST:PORT)")
    drop.add_argument("job", choices=JOBS)
    drop.add_argument("target", metavar="HOST:PORT")
    drop.set_defaults(run=_forget)


def _settings() -> MonitoringSettings:
    return _FromEnvironment().monitoring


def _stack() -> MonitoringStack:
    state = context.settings().state_dir.resolve()
    layout = context.local_cluster()
    brokers = [f"{n.host}:{n.metrics_port}" for n in layout.nodes]
    settings = _settings()
    plan = ScrapePlan(state, brokers, rule_files(), settings,
                      [a.id for a in context.topology().agencies])  # fmt: skip
    command = [sys.executable, "-m", "exchange.cli.main", "monitor",
               "--port", str(settings.monitor_port)]  # fmt: skip
    # The monitor runs in <state>/monitoring: give it the state folder as an absolute path.
    env = {**os.environ, "EXCHANGE_STATE_DIR": str(state)}
    return MonitoringStack(plan, monitor_command=command, monitor_env=env)


def _up(args: argparse.Namespace) -> int:
    stack = _stack()
    for service in stack.up():
        print(f"{service.name:<13} pid {service.pid}  {service.url}")
    print(f"alerts: {stack.prometheus_url}/alerts   rules: {stack.prometheus_url}/rules")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = _stack().down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(args: argparse.Namespace) -> int:
    stack = _stack()
    running = True
    for service in stack.status():
        running &= service.running
        state = f"pid {service.pid}" if service.running else "stopped"
        print(f"{service.name:<13} {state:<12} {service.url}")
    for job, files in announced(stack.plan.state_dir).items():
        for path in files:
            targets = json.loads(path.read_text())[0]["targets"]
            print(f"target        {job:<20} {', '.join(targets)}")
    return 0 if running else 1


def _config(args: argparse.Namespace) -> int:
    stack = _stack()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "prometheus.yml").write_text(
        json.dumps(prometheus_config(stack.plan), indent=1) + "\n")  # fmt: skip
    (args.out / "alertmanager.yml").write_text(
        json.dumps(alertmanager_config(stack.settings, stack.plan.agencies), indent=1) + "\n")
    print(f"wrote {args.out / 'prometheus.yml'} and {args.out / 'alertmanager.yml'}")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    stack = _stack()
    fired = stack.alerts_fired(args.minutes * 60)
    print(f"alerts that fired in the last {args.minutes:g} minutes "
          f"({stack.prometheus_url}/alerts):")  # fmt: skip
    hidden = ("__name__", "alertname", "alertstate", "severity", "bus")
    for alert in fired:
        where = ", ".join(f"{k}={v}" for k, v in sorted(alert.items()) if k not in hidden)
        print(f"  {alert.get('severity', '-'):<8} {alert.get('alertname', '?'):<32} {where}")
    if not fired:
        print("  none")
    return 0


def _forget(args: argparse.Namespace) -> int:
    state = context.settings().state_dir.resolve()
    if not forget(state, args.job, args.target):
        print(f"no announced {args.job} target {args.target}", file=sys.stderr)
        return 1
    return 0

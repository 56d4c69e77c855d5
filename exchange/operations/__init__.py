"""What the operator runs beside the bus: Prometheus rules, dashboards, the lag monitor.

The rules, the JMX exporter's rules, Alertmanager's routing and the Grafana dashboards are data
files in this package (``prometheus/``, ``grafana/``), not in a folder at the top of the
repository, so that they ship with the installed package: ``exchange monitoring up`` loads the
same files an operator copies into their own Prometheus, and the tests check those files.
"""

"""Inter-agency event exchange bus for anti-trafficking work.

Agencies publish standardized Avro events (single-object encoding, CloudEvents binary-mode
headers) to Apache Kafka topics described in ``topology/``; workflows and connectors consume
them. Subpackages:

- ``exchange.broker``   the local Apache Kafka broker (built from Maven Central jars)
- ``exchange.schemas``  the Avro schema catalogue, fingerprints and compatibility checks
- ``exchange.models``   pydantic models mirroring the schemas, with standards-based validation
- ``exchange.codec``    the wire format: Avro single-object encoding + CloudEvents headers
- ``exchange.topology`` desired topology, live-cluster admin I/O, planner
- ``exchange.client``   publisher and dead-lettering consumer used by workflows and connectors
- ``exchange.cli``      the ``exchange`` command
"""

__version__ = "0.1.0"

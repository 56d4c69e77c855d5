"""The local Apache Kafka broker: a real Kafka 4.x (KRaft) assembled from Maven Central jars.

``classpath`` builds the jar folder with Maven from ``pom.xml``; ``config`` renders each node's
``server.properties`` (SASL/SCRAM-SHA-512 for clients, StandardAuthorizer, no ACL means deny);
``local`` formats storage, starts, stops and reports on one node or a loopback cluster.
"""

from exchange.broker.local import LocalCluster, NodeStatus

__all__ = ["LocalCluster", "NodeStatus"]

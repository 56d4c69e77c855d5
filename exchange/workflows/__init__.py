"""Cross-agency workflows of the bus (seed articles 5-10).

Pure decision logic lives in small modules that know nothing of Kafka (``geo``,
``jurisdiction``, ``routing``, ``alerts``, ``matching``); the faust-streaming runtime that feeds
them events and publishes their results is separate, so each rule can be tested on its own.
"""

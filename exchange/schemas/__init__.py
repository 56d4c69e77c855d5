"""The Avro schema catalogue: sources, published versions, fingerprints, compatibility.

- :mod:`exchange.schemas.catalogue`  load sources and published versions, expand, fingerprint
- :mod:`exchange.schemas.compat`     backward-transitive compatibility (``avro`` checker)
- :mod:`exchange.schemas.freeze`     publish new versions (``exchange schemas freeze``)
- :mod:`exchange.schemas.check`      the CI gate (``exchange schemas check``)
"""

from exchange.schemas.catalogue import (
    EVENT_NAMESPACE,
    Catalogue,
    SchemaVersion,
    crc64_avro,
    default_schema_dir,
    expand,
)
from exchange.schemas.check import CheckResult, run_check
from exchange.schemas.compat import Report, check_catalogue, check_compatible
from exchange.schemas.exceptions import (
    SchemaError,
    SchemaIncompatibleError,
    SchemaParseError,
    UnknownSchemaError,
)
from exchange.schemas.freeze import freeze

__all__ = [
    "EVENT_NAMESPACE",
    "Catalogue",
    "CheckResult",
    "Report",
    "SchemaError",
    "SchemaIncompatibleError",
    "SchemaParseError",
    "SchemaVersion",
    "UnknownSchemaError",
    "check_catalogue",
    "check_compatible",
    "crc64_avro",
    "default_schema_dir",
    "expand",
    "freeze",
    "run_check",
]

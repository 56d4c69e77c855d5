"""The base model and small shared types of the exchange models.

Models use the Avro field names (camelCase) as attribute names, so there is no alias layer
between a model, its JSON and its Avro record.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

#: An identifier assigned by an agency (case number, rescue id, ...): 1-64 characters without
#: whitespace. Used as a Kafka record key, so it must be stable and printable.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S+$")]

#: A required free-text field: at least one non-blank character.
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class ExchangeModel(BaseModel):
    """Base of every exchange model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

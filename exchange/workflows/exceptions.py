"""Errors of the workflow runtime (their branch of :mod:`exchange.errors`)::

ExchangeError
└── WorkflowError
    └── UnsupportedRuntimeError   faust-streaming or aiokafka at a version not proven here

A workflow handler's own failures are dead-lettered with their message (naming the field and the
rule) by the runtime's guard; the stream goes on.
"""

from __future__ import annotations

from exchange.errors import ExchangeError


class WorkflowError(ExchangeError):
    """Root of the workflow runtime's own errors."""


class UnsupportedRuntimeError(WorkflowError, RuntimeError):
    """The worker patches private internals of faust-streaming and aiokafka
    (:mod:`exchange.workflows.runtime.faust_patches`) and refuses other versions than those the
    patches were proven with."""

    def __init__(self, package: str, installed: str, proven: str) -> None:
        self.package = package
        self.installed = installed
        self.proven = proven
        super().__init__(
            f"{package} {installed} is installed, but the worker's patches of its internals "
            f"were proven with {proven} only: install {package}=={proven} (pyproject.toml pins "
            "it), or re-prove exchange/workflows/runtime/faust_patches.py against the new version"
        )

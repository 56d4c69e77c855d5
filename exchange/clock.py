"""The bus's notion of "now": a :data:`Clock` is passed to whatever needs the time.

Nothing in the rules reads the wall clock; the workflows, reports and CLI take a :data:`Clock`
(``system_clock`` in production). :class:`ScaledClock` runs a scenario faster than real time, for
the demo and tests that arm their own timers (``clock.real_delay(at)``).

Validation cannot take an argument (a pydantic validator runs deep inside a model), so the
models' time bounds (no time more than a year ahead, no birth date after today) read
:func:`now`: the clock installed for the current context with :func:`using_clock`, else
``system_clock``. A test or a scenario that validates events at another time installs its clock
there; nothing else in the library reads the wall clock for validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

__all__ = [
    "Clock", "ScaledClock", "elapsed", "now", "require_aware", "system_clock", "using_clock",
]

#: A source of timezone-aware "now"; the workflows take one instead of calling datetime.now().
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time (UTC): the one place of this module that reads the wall clock."""
    return datetime.now(UTC)


_VALIDATION_CLOCK: ContextVar[Clock] = ContextVar("exchange_validation_clock", default=system_clock)


def now() -> datetime:
    """"Now" for validation: the clock of :func:`using_clock` in this context, else real time."""
    return _VALIDATION_CLOCK.get()()


@contextmanager
def using_clock(clock: Clock) -> Iterator[Clock]:
    """Validate with ``clock`` as "now" inside the ``with`` block (this task or thread only)."""
    token = _VALIDATION_CLOCK.set(clock)
    try:
        yield clock
    finally:
        _VALIDATION_CLOCK.reset(token)


class ScaledClock:
    """Scenario time that runs ``speed`` times faster than ``base``, starting at ``origin``.

    Calling it gives the scenario's "now". ``base`` is read once at construction and on each
    call; pass a fake to test a workflow without waiting.
    """

    def __init__(self, origin: datetime, speed: float = 1.0, *, base: Clock = system_clock) -> None:
        require_aware("origin", origin)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.origin = origin
        self.speed = speed
        self._base = base
        self._started = base()

    def __call__(self) -> datetime:
        return self.origin + (self._base() - self._started) * self.speed

    def real_delay(self, at: datetime) -> timedelta:
        """Real time to wait until scenario time ``at``; zero when it has passed."""
        return max(timedelta(0), elapsed(self(), at) / self.speed)


def require_aware(what: str, when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {when.isoformat()}")


def elapsed(start: datetime, end: datetime) -> timedelta:
    """``end - start`` in absolute time (aware datetimes sharing a tzinfo subtract wall time)."""
    require_aware("start", start)
    require_aware("end", end)
    return end.astimezone(UTC) - start.astimezone(UTC)



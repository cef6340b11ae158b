"""How a job reports the progress of its long steps; the command line shows them, a library
caller may ignore them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol

Update = Callable[..., None]


class Steps(Protocol):
    def step(
        self, label: str, total: int | None = None, *, forks: bool = False
    ) -> contextlib.AbstractContextManager[Update | None]:
        """A step of the job: the context gives a function to call with the amount done so far
        (``update(done)``, of ``total`` when it is known, or ``update(done, total)``), or None
        when nobody watches the amount. ``forks``: the step forks worker or reading processes,
        so whoever watches starts no thread before the first update."""
        ...


class Silent:
    """Steps nobody watches."""

    @contextlib.contextmanager
    def step(self, label: str, total: int | None = None, *, forks: bool = False) -> Iterator[Update | None]:
        yield None


SILENT = Silent()

"""How a job reports the progress of its long steps; the command line shows them, a library
caller may ignore them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol

Update = Callable[[int], None]


class Steps(Protocol):
    def step(self, label: str, total: int | None = None) -> contextlib.AbstractContextManager[Update | None]:
        """A step of the job: the context gives a function to call with the amount done so far
        (of ``total`` when it is known), or None when nobody watches the amount."""
        ...


class Silent:
    """Steps nobody watches."""

    @contextlib.contextmanager
    def step(self, label: str, total: int | None = None) -> Iterator[Update | None]:
        yield None


SILENT = Silent()

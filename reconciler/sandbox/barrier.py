"""``list_barrier``: prove that a client lists several organisations at once.

With ``list_barrier: N`` (set through ``POST /_sandbox/config``) every clone list
waits until N lists, of any organisations, are in flight together, then all of
them are answered. A client that lists one organisation after another never
gets N together: its first list is refused with a 400 after
``list_barrier_timeout`` seconds (not retried by clients, so the run fails at
once). A test of concurrency thus depends on what the client does, not on how
fast it does it.
"""

from __future__ import annotations

import asyncio


class ListBarrier:
    """Holds lists until ``needed`` are waiting together (0 or 1: no barrier)."""

    def __init__(self) -> None:
        self.waiting = 0
        self._released: asyncio.Event | None = None

    async def wait(self, needed: int, timeout: float) -> bool:
        """True when ``needed`` lists were in flight together; False on timeout."""
        if needed <= 1:
            return True
        if self._released is None or (self.waiting == 0 and self._released.is_set()):
            self._released = asyncio.Event()
        released = self._released
        self.waiting += 1
        try:
            if self.waiting >= needed:
                released.set()
            try:
                await asyncio.wait_for(released.wait(), timeout)
            except asyncio.TimeoutError:
                return False
            return True
        finally:
            self.waiting -= 1

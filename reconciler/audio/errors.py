"""The one error the audio readers raise, shared by every format's module.

``AudioError`` means the bytes are not usable audio; ``check_sample`` turns it
into a message about the file, while an ``OSError`` (the file itself cannot be
read) stays a separate case.
"""

from __future__ import annotations


class AudioError(Exception):
    """The audio cannot be read: corrupt, truncated, or missing what a duration needs."""

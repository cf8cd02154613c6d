"""The one-line reports of the setup commands: `init`, `schema --write/--check`,
`sandbox serve`."""

from __future__ import annotations

from collections.abc import Sequence


def initialised(root: object, done: Sequence[str]) -> list[str]:
    return [
        f"Initialised a voicectl project in {root}: {', '.join(done)}.",
        "Next: add a sample under samples/, declare it in voices.yaml, then "
        "`voicectl validate` and `voicectl plan`.",
    ]


def schemas_up_to_date(folder: object, n: int) -> str:
    return f"{folder}: {n} schemas are up to date."


def schemas_written(folder: object, written: Sequence[str]) -> str:
    return f"{folder}: wrote {', '.join(written)}."


def listening(url: str) -> str:
    return f"Waves sandbox listening on {url}"

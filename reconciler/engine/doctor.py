"""`voicectl doctor`: which world of the Waves API this key and endpoint are in.

A read-only check for a newcomer's first run and for CI. Every request it sends
is a list, a read, or a probe that cannot change anything:

* the key lists (``GET /waves/v1/voice-cloning``) and the list has the shape
  voicectl reads;
* each delete route is asked with a voiceId that cannot exist
  (:data:`reconciler.api.client.PROBE_VOICE_ID`), so nothing is deleted;
* each create model is asked with a create WITHOUT a file, so nothing is made;
* the legacy list route is read (is it retired?);
* TTS is asked to speak with an existing completed clone on its own model, or,
  with no such clone, with the impossible voiceId (an answer is all we need);
* the clones are counted: legacy, Pro, failed, unmanaged.

Each finding says what it means for plan and apply. ``fail`` marks something
voicectl needs (a key that lists, a create that accepts lightning-v3.1); the
command exits 1 when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler import languages
from reconciler.api.client import PROBE_VOICE_ID
from reconciler.api.errors import AuthError, DeprecatedRouteError, NotFoundError, WavesError
from reconciler.api.models import PRO_MODEL, Clone
from reconciler.api.routes import ROUTES, RouteVerdict
from reconciler.engine.checking import measure_wav
from reconciler.lockfile import LockDocument
from reconciler.ownership import owner_of, recorded_ids
from reconciler.text import clean

FORMAT_VERSION = 1
Status = Literal["ok", "warn", "fail", "info"]
PROBE_TEXT = "Hello from voicectl doctor."


@dataclass
class Finding:
    check: str
    status: Status
    result: str  # what was found
    means: str  # what it means for plan and apply

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "result": clean(self.result),
            "means": clean(self.means),
        }


@dataclass
class DoctorReport:
    endpoint: str
    findings: list[Finding] = field(default_factory=list)
    delete_route: str | None = None
    delete_routes: dict[str, str] = field(default_factory=dict)  # route -> verdict
    create_models: dict[str, bool | None] = field(default_factory=dict)
    legacy_routes: str | None = None  # "live" | "gone" | None (unknown)
    counts: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        return not any(f.status == "fail" for f in self.findings)

    @property
    def world(self) -> str | None:
        """``seed`` (the seed page's API), ``current`` (the newest published), ``mixed``,
        or None when nothing could be probed (a refused key, an unreachable endpoint)."""
        probed = [v for v in self.create_models.values() if v is not None]
        if not self.delete_routes and self.legacy_routes is None and not probed:
            return None
        old = self.delete_routes.get("lightning-large", "")
        pro = self.create_models.get(PRO_MODEL)
        if old == "deletes" and self.legacy_routes == "live" and not pro:
            return "seed"
        if old.startswith("retired") and self.legacy_routes == "gone" and pro:
            return "current"
        return "mixed"

    def add(self, check: str, status: Status, result: str, means: str) -> None:
        self.findings.append(Finding(check, status, result, means))

    def to_json(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "ok": self.ok,
            "endpoint": clean(self.endpoint),
            "world": self.world,
            "deleteRoute": self.delete_route,
            "deleteRoutes": {k: clean(v) for k, v in self.delete_routes.items()},
            "createModels": dict(self.create_models),
            "legacyRoutes": self.legacy_routes,
            "clones": self.counts,
            "checks": [f.to_json() for f in self.findings],
        }


def clone_counts(clones: Sequence[Clone], lock: LockDocument | None) -> dict[str, int]:
    """How many clones, and how many are legacy, Pro, failed, unmanaged."""
    recorded = recorded_ids(lock) if lock is not None else set()
    return {
        "total": len(clones),
        "legacy": sum(1 for c in clones if c.is_legacy),
        "pro": sum(1 for c in clones if c.clone_model == PRO_MODEL),
        "failed": sum(1 for c in clones if c.status == "failed"),
        "unmanaged": sum(
            1 for c in clones if owner_of(c.tags) is None and c.voice_id not in recorded
        ),
    }


async def diagnose(
    client: Any, *, lock: LockDocument | None = None, delete_via: str = "auto"
) -> DoctorReport:
    """Run every check against ``client``'s endpoint; nothing is created or deleted."""
    report = DoctorReport(endpoint=client.base_url)
    try:
        clones = await client.list_clones()
    except AuthError as exc:
        report.add(
            "key",
            "fail",
            str(exc),
            "plan and apply cannot run: set SMALLEST_API_KEY to a key of this organisation",
        )
        return report
    except WavesError as exc:
        report.add(
            "key", "fail", str(exc), "plan and apply cannot run: the endpoint does not list clones"
        )
        return report
    report.add(
        "key",
        "ok",
        f"the key lists the organisation's clones ({len(clones)})",
        "plan, apply and list can read the organisation",
    )
    _shape(report, clones)
    await _deletes(report, client, delete_via)
    await _creates(report, client)
    await _legacy(report, client)
    await _tts(report, client, clones)
    counts = clone_counts(clones, lock)
    report.counts = counts
    report.add(
        "clones",
        "info",
        f"{counts['total']} clones: {counts['legacy']} legacy, {counts['pro']} Pro, "
        f"{counts['failed']} failed, {counts['unmanaged']} unmanaged",
        _clone_meaning(counts),
    )
    return report


def _shape(report: DoctorReport, clones: Sequence[Clone]) -> None:
    no_status = sum(1 for c in clones if not c.status)
    no_models = sum(1 for c in clones if not c.models)
    if no_status or no_models:
        report.add(
            "list shape",
            "warn",
            f"{no_status} entries without status, {no_models} without modelIds",
            "such clones are planned as not ready / legacy; check them in the dashboard",
        )
    else:
        report.add(
            "list shape",
            "ok",
            "every entry has voiceId, status and modelIds",
            "the plan can tell current, legacy, busy and failed clones apart",
        )


async def _deletes(report: DoctorReport, client: Any, delete_via: str) -> None:
    names = list(ROUTES) if delete_via == "auto" else [delete_via]
    verdicts: list[RouteVerdict] = []
    for name in names:
        verdict = await client.probe_delete_route(name)
        verdicts.append(verdict)
        report.delete_routes[name] = "deletes" if verdict.works else verdict.why
    working = [v for v in verdicts if v.works]
    if working:
        route = working[0].route
        report.delete_route = route.name
        others = "; ".join(f"{v.route.label}: {v.why}" for v in verdicts if not v.works)
        report.add(
            "delete",
            "ok",
            f"{route.label} accepts this key" + (f" ({others})" if others else ""),
            "prune, replacements and migrations delete old clones",
        )
        return
    why = "; ".join(f"{v.route.label}: {v.why}" for v in verdicts)
    report.add(
        "delete",
        "warn",
        f"no delete route works for this key ({why})",
        "apply still creates and replaces; clones to delete are handed off (delete "
        "them in the dashboard), recorded as awaiting deletion, and deleted by the "
        "first apply that can",
    )


async def _creates(report: DoctorReport, client: Any) -> None:
    for model in languages.CLONE_MODELS:
        accepted, said = await client.probe_create_model(model)
        report.create_models[model] = accepted
        needed = model == languages.DEFAULT_MODEL
        if accepted:
            report.add(f"create {model}", "ok", said, f"voices with model: {model} can be created")
        elif accepted is False:
            report.add(
                f"create {model}",
                "fail" if needed else "info",
                said,
                f"voices with model: {model} cannot be created"
                + ("" if needed else f"; keep them on {languages.DEFAULT_MODEL}"),
            )
        else:
            report.add(
                f"create {model}",
                "warn",
                f"unknown: {said}",
                f"creates with model: {model} may fail",
            )


async def _legacy(report: DoctorReport, client: Any) -> None:
    try:
        await client.list_legacy_voices()
    except DeprecatedRouteError as exc:
        report.legacy_routes = "gone"
        report.add(
            "legacy routes",
            "info",
            f"retired: {exc.server_message or exc}",
            "nothing voicectl needs: legacy clones still list, and migrate "
            "re-clones them through the current endpoint",
        )
        return
    except WavesError as exc:
        report.add("legacy routes", "info", f"unknown: {exc}", "nothing voicectl needs")
        return
    report.legacy_routes = "live"
    report.add(
        "legacy routes",
        "info",
        "the lightning-large routes still answer",
        "nothing voicectl needs; legacy clones are migrated either way",
    )


async def _tts(report: DoctorReport, client: Any, clones: Sequence[Clone]) -> None:
    usable = [c for c in clones if c.status == "completed" and c.is_current]
    if usable:
        voice = usable[0]
        model = languages.tts_model(voice.clone_model)
        try:
            audio = await client.tts(voice.voice_id, PROBE_TEXT, model=model)
        except WavesError as exc:
            report.add("tts", "warn", str(exc), "check --probe will report this voice")
            return
        info = measure_wav(audio)
        if info.problem:
            report.add(
                "tts",
                "warn",
                f"{voice.voice_id} on {model}: {info.problem}",
                "check --probe will flag such clones",
            )
        else:
            report.add(
                "tts",
                "ok",
                f"{voice.voice_id} spoke on {model} ({info.size} bytes)",
                "check --probe can tell working clones from broken ones",
            )
        return
    try:
        await client.tts(PROBE_VOICE_ID, PROBE_TEXT)
    except NotFoundError:
        report.add(
            "tts",
            "ok",
            "answers (no completed clone to speak with; an unknown voice was refused as expected)",
            "check --probe can run",
        )
        return
    except WavesError as exc:
        report.add("tts", "warn", str(exc), "check --probe may fail")
        return
    report.add(
        "tts",
        "warn",
        "an unknown voice was not refused",
        "check --probe may not tell broken clones apart",
    )


def _clone_meaning(counts: dict[str, int]) -> str:
    parts = []
    if counts["legacy"]:
        parts.append(
            "legacy clones do not work on lightning-v3.1: `voicectl migrate` "
            "re-clones the managed ones"
        )
    if counts["unmanaged"]:
        parts.append(
            "unmanaged clones are left alone (prune: managed); `voicectl import` adopts them"
        )
    if counts["failed"]:
        parts.append("failed clones of managed voices are replaced by apply")
    return "; ".join(parts) or "nothing to migrate or adopt"

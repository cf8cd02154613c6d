"""Which delete route the service allows today, found out once per run.

The seed page's delete is ``DELETE /waves/v1/lightning-large``; the provider has
since retired it (410 ``MODEL_DEPRECATED``) and announced ``POST
/waves/v1/voice-cloning/delete``, which may refuse API keys (401) for now. Real
organisations are in either world. :class:`DeleteRoutes` holds what one client
learnt: with ``via="auto"`` the first delete of the run tries the routes in
order, and

* a success, or a "voice id unknown" answer, means the route works: every later
  delete of the run uses it;
* 410, 404 (a bare one: the route is not there) or 405 means try the next route;
* 401/403 on a delete while the same key lists fine means "this key may not
  delete" on that route: try the next one (a key that cannot list either is
  simply a bad key, and that error stands);
* when no route is left, the verdict is :class:`DeleteUnavailableError`, raised
  by every later delete of the run without sending anything: one probe per
  run, never a loop.

Anything else (a 5xx after the retries, a dropped connection) decides nothing:
the error stands and the next delete probes again.
"""

from __future__ import annotations

from dataclasses import dataclass

OLD_DELETE_PATH = "/waves/v1/lightning-large"
NEW_DELETE_PATH = "/waves/v1/voice-cloning/delete"
DELETE_VIA = ("auto", "lightning-large", "voice-cloning")
DELETE_VIA_ENV = "VOICECTL_DELETE_VIA"


@dataclass(frozen=True)
class Route:
    name: str  # as --delete-via spells it
    method: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = {
    "lightning-large": Route("lightning-large", "DELETE", OLD_DELETE_PATH),
    "voice-cloning": Route("voice-cloning", "POST", NEW_DELETE_PATH),
}


def candidates(via: str) -> tuple[Route, ...]:
    """The routes to try, in order, for ``--delete-via``."""
    if via == "auto":
        return (ROUTES["lightning-large"], ROUTES["voice-cloning"])
    return (ROUTES[via],)


def check_via(value: str | None) -> str:
    """``value`` if it is a known ``--delete-via`` choice (None: auto); else ValueError."""
    via = (value or "auto").strip().lower() or "auto"
    if via not in DELETE_VIA:
        raise ValueError(
            f"{DELETE_VIA_ENV}/--delete-via: {value!r} is not one of {', '.join(DELETE_VIA)}"
        )
    return via


@dataclass(frozen=True)
class RouteVerdict:
    """What was learnt about one route: ``works``, or why not (one line)."""

    route: Route
    works: bool
    why: str = ""  # "retired (410 MODEL_DEPRECATED)", "absent (404)", "refuses this key (401)"
    status: int | None = None
    recommended_endpoint: str | None = None


def unavailable_reason(verdicts: list[RouteVerdict]) -> str:
    """One line: why no route deletes (``DELETE ...: retired (410); POST ...: ...``)."""
    return "; ".join(f"{v.route.label}: {v.why}" for v in verdicts)

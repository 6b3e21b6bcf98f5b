"""Dependencies shared by the routers: the timetable being served, the clock, languages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from transit.accounts.users import User
from transit.api.problems import Problem
from transit.api.users import user_from_header
from transit.clock import Clock
from transit.realtime.context import LiveContext
from transit.timetable.timetable import Timetable

PreviewParam = Annotated[str | None, Query(
    max_length=60, description="A staged feed version id (fv_...): answer from the network "
    "with that version in place of its operator's published one. Needs that operator's key "
    "(Authorization: Bearer); answers are private (Cache-Control: private, no-store).")]


async def timetable_or_preview(request: Request, preview: PreviewParam = None) -> Timetable:
    """The served timetable, or with `?preview=VERSION` the operator's preview network
    (departures, trips and journeys take it)."""
    if preview is not None:
        # Set by the app from the operators' package, which sits above this web kit.
        load_preview = request.app.state.preview_timetable
        return await load_preview(request, preview)  # type: ignore[no-any-return]
    return await get_timetable(request)


async def get_timetable(request: Request) -> Timetable:
    tt = request.app.state.holder.get()
    if tt is None:
        raise Problem(503, "no timetable has been compiled yet; run `transit ingest`",
                      headers={"Retry-After": "30"})
    return tt


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def now(clock: Annotated[Clock, Depends(get_clock)]) -> datetime:
    return clock.now()


def parse_accept_language(header: str | None) -> list[str]:
    if not header:
        return []
    langs: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            langs.append((-q, i, tag.strip().lower()))
    return [t for _, _, t in sorted(langs)]


LangParam = Annotated[str | None, Query(
    max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$",
    description="Language for names; overrides Accept-Language.")]


def _languages(request: Request, lang: str | None) -> list[str]:
    if lang:
        return [lang.lower()]
    return parse_accept_language(request.headers.get("accept-language"))[:5]


async def languages(request: Request, lang: LangParam = None) -> list[str]:
    return _languages(request, lang)


def _live(request: Request, now: datetime) -> LiveContext:
    live = getattr(request.app.state, "live", None)
    if live is None:
        return LiveContext.none()
    return LiveContext(live.overlay(), int(now.timestamp()),
                       request.app.state.settings.realtime_stale_after_s)


async def live_context(request: Request, now: Annotated[datetime, Depends(now)]
                       ) -> LiveContext:
    """The live overlay as of this request (one snapshot for the whole request)."""
    return _live(request, now)


@dataclass(frozen=True)
class ReadContext:
    """Everything a live read needs, resolved in one dependency (the departures endpoints
    are the hottest: each dependency costs FastAPI a resolution step)."""

    tt: Timetable
    now: datetime
    langs: list[str]
    live: LiveContext
    user: User | None  # the commuter whose token came with the request (their profile)


async def read_context(request: Request, lang: LangParam = None,
                       preview: PreviewParam = None) -> ReadContext:
    user = await user_from_header(request)
    tt = await timetable_or_preview(request, preview)
    now_ = request.app.state.clock.now()
    return ReadContext(tt, now_, _languages(request, lang), _live(request, now_), user)


TimetableDep = Annotated[Timetable, Depends(get_timetable)]
PreviewableTimetableDep = Annotated[Timetable, Depends(timetable_or_preview)]
# what `?preview=` may answer besides the route's own problems
PREVIEW_PROBLEMS = (401, 404, 409)
LiveDep = Annotated[LiveContext, Depends(live_context)]
NowDep = Annotated[datetime, Depends(now)]
LanguagesDep = Annotated[list[str], Depends(languages)]
ReadDep = Annotated[ReadContext, Depends(read_context)]

"""The LocationInsights actor: one per location, its series and fitted model kept in actor state.

The SDK's JSON decoder turns date-like strings into datetime objects, both in method arguments
and in state. Our payloads carry business days and timestamps as strings, so the state is kept
as JSON text, RecordOrders takes its batch of events as JSON text, and date arguments are normalised.

State keys: `insights` (the series, insights.InsightsState), `model` (the last training: forecast
with backtest, anomalies, recommendations), `settings` (time zone, cut-over and closed weekdays from auth),
`published` (ids of events already published, so a retrain never repeats an alert), `feedback`
(what owners accepted and dismissed: feedback.py, which also says what the actor learns from it),
`weather` (`{"heavyRain": [business days]}`: the days owners and managers said had heavy rain,
which the anomaly model uses to tell a rainy day from lost demand).
Fitting runs in worker processes (insights.run_cpu_bound); a call holds the actor's turn while
it waits, but never the event loop that serves every other actor.

Warm reads parse nothing and compute nothing twice (`_series`, `_read_json`, `AnswerCache`): a
location's series is up to ~1 MB of JSON (400 days of items, 90 days of hours, 5,000 event ids),
and parsing it on every call cost ~17 ms, more than the rest of the call. The parsed series itself
is not kept (~4.5 times its text in memory, per active actor): only its tenant and version, and the
answers computed from it.
"""

import json
import logging
import os
from abc import abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dapr.actor import Actor, ActorId, ActorInterface, Remindable, actormethod
from dapr.actor.runtime.context import ActorRuntimeContext

from lsp_ai import feedback, worker
from lsp_ai.events import (
    DEFAULT_SETTINGS,
    contracts,
    ensure_settings,
    location_of_tenant,
    publish_findings,
    settings_closed_weekdays,
)
from lsp_ai.insights import (
    MAX_DAYS,
    InsightsState,
    admit_event,
    empty_state,
    record_order,
    record_void,
    run_cpu_bound,
    single_argument,
    summary,
)

log = logging.getLogger("lsp_ai.actors")

STATE_KEY = "insights"
MODEL_KEY = "model"
SETTINGS_KEY = "settings"
PUBLISHED_KEY = "published"
FEEDBACK_KEY = "feedback"
WEATHER_KEY = "weather"
DAILY_REMINDER = "daily-retrain"
ONE_SHOT_REMINDER = "retrain-now"
MAX_FORECAST_DAYS = 28
MODEL_HORIZON_DAYS = 14  # the daily model's forecast; longer or per-item forecasts are fitted per call
# A model trained on an older version of the series is still served for this long: every order
# changes the series, and refitting on each call would make calls slow.
MODEL_MAX_AGE = timedelta(seconds=int(os.environ.get("AI_MODEL_MAX_AGE_SECONDS", "600")))
# Minutes after the cut-over at which the daily retrain runs (the closed day's events are in).
RETRAIN_AFTER_CUTOVER = timedelta(minutes=15)
# Heavy-rain labels older than this (in days before the current business day) are refused and
# dropped: the series keeps no older days, and the key stays bounded.
MAX_WEATHER_AGE_DAYS = MAX_DAYS
# A heavy-rain mark retrains this long after it, and each new mark moves that retrain again: an
# owner marking last week's rainy days one after another gets one retrain, not one per mark, and
# the marks never wait behind a training for the actor's turn (the edge gives a call 800 ms).
RETRAIN_AFTER_RAIN_MARK = timedelta(seconds=20)
# Answers kept per actor (item forecasts differ by item and days; the rest have one answer each).
MAX_CACHED_ANSWERS = 32


class BadArgument(ValueError):
    """A caller's argument is malformed; the message says how."""


class LocationInsightsInterface(ActorInterface):
    @actormethod(name="RecordOrders")
    @abstractmethod
    async def record_orders(self, batch: Any) -> dict[str, Any]: ...

    @actormethod(name="GetSummary")
    @abstractmethod
    async def get_summary(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="Forecast")
    @abstractmethod
    async def forecast(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="Anomalies")
    @abstractmethod
    async def anomalies(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="Recommendations")
    @abstractmethod
    async def recommendations(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="ActOnRecommendation")
    @abstractmethod
    async def act_on_recommendation(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="Pricing")
    @abstractmethod
    async def pricing(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="RequestRetrain")
    @abstractmethod
    async def request_retrain(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="SettingsChanged")
    @abstractmethod
    async def settings_changed(self, arg: Any) -> dict[str, Any]: ...

    @actormethod(name="SetHeavyRain")
    @abstractmethod
    async def set_heavy_rain(self, arg: Any) -> dict[str, Any]: ...


def _as_day(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as err:
        raise BadArgument(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from err


def _business_day_arg(value: Any, name: str) -> str:
    """A business day given as `YYYY-MM-DD`. The SDK's decoder has already turned such a string
    into a naive midnight datetime; a timestamp (time or zone) or any other form is refused, so a
    caller's time-of-day never silently picks a day."""
    if isinstance(value, datetime):
        if value.tzinfo is not None or value.time() != datetime.min.time():
            raise BadArgument(f"{name}: expected a date YYYY-MM-DD, got a timestamp {value.isoformat()}")
        return value.date().isoformat()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        day = _as_day(value, name)
        if day is not None:
            return day
    raise BadArgument(f"{name}: expected a date YYYY-MM-DD, got {value!r}")


def oldest_rain_day(today: str) -> str:
    """The oldest business day a heavy-rain label is accepted and kept for."""
    return (date.fromisoformat(today) - timedelta(days=MAX_WEATHER_AGE_DAYS)).isoformat()


def kept_rain_days(days: set[str], today: str) -> list[str]:
    """The heavy-rain days worth keeping: sorted, none before `oldest_rain_day(today)`."""
    oldest = oldest_rain_day(today)
    return sorted(d for d in days if d >= oldest)


def _int_arg(arg: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = arg.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadArgument(f"{name}: expected an integer from {low} to {high}, got {value!r}")
    return value


def next_retrain_delay(now: datetime, time_zone: str, cutover_hour: int) -> timedelta:
    """Time until the next cut-over (+ a margin) on the location's clock."""
    local = now.astimezone(ZoneInfo(time_zone))
    at = local.replace(hour=cutover_hour, minute=0, second=0, microsecond=0) + RETRAIN_AFTER_CUTOVER
    if at <= local:
        at += timedelta(days=1)
    return at - local


@dataclass(frozen=True)
class SeriesFacts:
    """What warm calls need of the series without parsing it: whose it is and its version."""

    text: str | None  # the stored text they were read from (compared by identity)
    tenant_id: str | None
    version: int


@dataclass(frozen=True)
class _Cached:
    texts: tuple[str | None, ...]
    args: tuple[object, ...]
    expires: datetime | None
    answer: dict[str, Any]


class AnswerCache:
    """Computed answers of one actor, each valid while what it was computed from is unchanged:
    the state texts it read, compared by identity (the SDK's state tracker holds each key's text
    between calls, and every write or reload puts a new text object there: a recorded order, a
    retrain, an owner's action), and its arguments, compared by value; until `expires` when the
    answer also depends on the clock. Least recently used answers go first."""

    def __init__(self, size: int = MAX_CACHED_ANSWERS) -> None:
        self._size = size
        self._answers: OrderedDict[str, _Cached] = OrderedDict()

    def get(
        self, name: str, texts: tuple[str | None, ...], args: tuple[object, ...], now: datetime
    ) -> dict[str, Any] | None:
        found = self._answers.get(name)
        if (
            found is None
            or len(found.texts) != len(texts)
            or any(a is not b for a, b in zip(found.texts, texts, strict=True))
            or found.args != args
            or (found.expires is not None and now >= found.expires)
        ):
            return None
        self._answers.move_to_end(name)
        return found.answer

    def put(
        self,
        name: str,
        texts: tuple[str | None, ...],
        args: tuple[object, ...],
        answer: dict[str, Any],
        expires: datetime | None = None,
    ) -> None:
        self._answers[name] = _Cached(texts, args, expires, answer)
        self._answers.move_to_end(name)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)


class LocationInsights(Actor, LocationInsightsInterface, Remindable):
    """Actor type name = class name; the TypeScript edge calls it by that name."""

    def __init__(self, ctx: ActorRuntimeContext, actor_id: ActorId) -> None:
        super().__init__(ctx, actor_id)
        self._parsed: dict[str, tuple[str, Any]] = {}  # key -> (the text parsed, its value); not the series
        self._facts: SeriesFacts | None = None
        self._answers = AnswerCache()
        self._absent: set[str] = set()  # keys the sidecar has no value for (see `_text`)

    async def _text(self, key: str) -> str | None:
        """The key's JSON text as the SDK's state tracker holds it (loaded from the sidecar once).
        A key found absent is not asked again: the SDK tracks only keys that exist, so every
        call would ask the sidecar (a location nobody acted on has no `feedback`); only this
        actor writes its state, and `_set_json` forgets the absence."""
        if key in self._absent:
            return None
        found, value = await self._state_manager.try_get_state(key)
        if not found:
            self._absent.add(key)
        return value if found and isinstance(value, str) else None

    async def _get_json(self, key: str, default: Any) -> Any:
        """A fresh parse: for callers that change the value before writing it back."""
        text = await self._text(key)
        return json.loads(text) if text is not None else default

    async def _read_json(self, key: str, default: Any) -> Any:
        """The parsed value for read-only use (shared between calls: never change it). Parsed once
        per stored text: a write stores a new text object, so identity says the parse is current.
        Small keys only (model, settings, feedback, published): the series goes through `_series`."""
        text = await self._text(key)
        if text is None:
            return default
        parsed = self._parsed.get(key)
        if parsed is not None and parsed[0] is text:
            return parsed[1]
        value = json.loads(text)
        self._parsed[key] = (text, value)
        return value

    async def _set_json(self, key: str, value: Any) -> str:
        """Stores the value's JSON text (saved with the call's other changes); returns the text."""
        self._absent.discard(key)
        text = json.dumps(value, ensure_ascii=False)
        await self._state_manager.set_state(key, text)
        return text

    async def _series(self, arg: dict[str, Any] | None = None) -> tuple[SeriesFacts, InsightsState | None]:
        """The series' tenant and version, kept per stored text (a warm call parses nothing), and
        the series itself when this call had to parse it for them (else None: `_whole` parses it
        if the call needs it). Refuses a caller of another tenant (the edge checks too: tenancy
        twice)."""
        text = await self._text(STATE_KEY)
        facts, state = self._facts, None
        if facts is None or facts.text is not text:
            state = json.loads(text) if text is not None else empty_state()
            facts = SeriesFacts(text, state.get("tenantId"), int(state.get("version", 0)))
            self._facts = facts
        caller = (arg or {}).get("tenantId")
        if caller is not None and facts.tenant_id is not None and caller != facts.tenant_id:
            raise BadArgument(f"location {self.id.id} not found")
        return facts, state

    async def _whole(self, parsed: InsightsState | None) -> InsightsState:
        """The whole series, this call's own copy (callers may change it)."""
        return parsed if parsed is not None else await self._get_json(STATE_KEY, empty_state())

    async def _load(self, arg: dict[str, Any] | None = None) -> InsightsState:
        """The whole series (this call's own copy), after the tenancy check of `_series`."""
        return await self._whole((await self._series(arg))[1])

    async def _settings(
        self, tenant_id: str | None, may_fetch: bool = False, refresh: bool = False
    ) -> dict[str, Any]:
        """Time zone, cut-over and closed weekdays: asked from auth on the write paths (first
        event, until auth has answered; with `refresh`, the daily retrain asks every time, so a
        changed schedule takes effect at the next retrain), read from state on the read paths (a
        call must not wait for auth). When auth cannot answer, what is stored stays."""
        settings = await self._read_json(SETTINGS_KEY, None)
        if not may_fetch:
            return settings or DEFAULT_SETTINGS
        if refresh or settings is None or settings.get("source") == "default":
            fetched = await ensure_settings(self.id.id, tenant_id)
            if settings is None or (fetched["source"] != "default" and fetched != settings):
                # The reminder follows the cut-over: registered again only when the clock moved.
                reschedule = settings is None or any(
                    settings.get(k) != fetched[k] for k in ("timeZone", "cutoverHour", "source")
                )
                settings = fetched
                await self._set_json(SETTINGS_KEY, settings)
                if reschedule:
                    await self._ensure_daily_reminder(settings)
        return settings

    async def _ensure_daily_reminder(self, settings: dict[str, Any]) -> None:
        delay = next_retrain_delay(datetime.now(UTC), settings["timeZone"], int(settings["cutoverHour"]))
        await self.register_reminder(DAILY_REMINDER, b"{}", delay, timedelta(days=1))
        log.info(
            "daily retrain reminder registered",
            extra={"locationId": self.id.id, "firstInSeconds": int(delay.total_seconds())},
        )

    async def _model(
        self, facts: SeriesFacts, settings: dict[str, Any], parsed: InsightsState | None = None
    ) -> dict[str, Any]:
        model = await self._read_json(MODEL_KEY, None)
        if model is not None:
            age = datetime.now(UTC) - datetime.fromisoformat(model["trainedAt"])
            if model["version"] == facts.version or age < MODEL_MAX_AGE:
                return model
        return await self._train(await self._whole(parsed), settings)

    async def _train(self, state: InsightsState, settings: dict[str, Any]) -> dict[str, Any]:
        weather = await self._read_json(WEATHER_KEY, {"heavyRain": []})
        model = await run_cpu_bound(
            worker.run,
            "train",
            state,
            settings["timeZone"],
            MODEL_HORIZON_DAYS,
            settings_closed_weekdays(settings),
            None,  # now_iso: the worker's clock
            list(weather["heavyRain"]),
        )
        await self._set_json(MODEL_KEY, model)
        await self._state_manager.save_state()
        return model

    async def record_orders(self, batch: Any) -> dict[str, Any]:
        """Order events of this location, `{"events": [{eventId, type, data}, …]}` (JSON text):
        each admitted and recorded once per event id, then the series saved once for the whole
        batch. Answers `{"results": [{"recorded": bool} | {"recorded": false, "rejected": why}]}`
        in the order of the events."""
        arg = single_argument(json.loads(batch) if isinstance(batch, str) else batch)
        events = arg.get("events")
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise BadArgument("events: expected a list of order events")
        state = await self._load()
        results: list[dict[str, Any]] = []
        for event in events:
            data = event["data"]
            verdict = await admit_event(state, self.id.id, str(data["tenantId"]), location_of_tenant)
            if isinstance(verdict, str):
                results.append({"recorded": False, "rejected": verdict})
                continue
            if verdict is not None:  # the location's first event: auth's settings came with the check
                await self._set_json(SETTINGS_KEY, verdict)
                await self._ensure_daily_reminder(verdict)
            if event.get("type", "order.created") == "order.voided":
                recorded = record_void(state, str(event["eventId"]), data)
            else:
                recorded = record_order(state, str(event["eventId"]), data)
            results.append({"recorded": recorded})
        if any(r["recorded"] for r in results):
            text = await self._set_json(STATE_KEY, state)
            # The next read knows the tenant and version of the text just written, unparsed.
            self._facts = SeriesFacts(text, state.get("tenantId"), int(state.get("version", 0)))
            # First event: learn the cut-over, register the reminder.
            await self._settings(state.get("tenantId"), may_fetch=True)
            await self._state_manager.save_state()
        return {"results": results}

    async def get_summary(self, arg: Any) -> dict[str, Any]:
        single_argument(arg)
        _, parsed = await self._series()
        texts = tuple([await self._text(key) for key in (STATE_KEY, MODEL_KEY, PUBLISHED_KEY)])
        cached = self._answers.get("summary", texts, (), datetime.now(UTC))
        if cached is not None:
            return cached
        model = await self._read_json(MODEL_KEY, None)
        answer = summary(self.id.id, await self._whole(parsed)) | {
            "lastTrainedAt": model["trainedAt"] if model else None,
            "trainings": int((await self._read_json(PUBLISHED_KEY, {})).get("trainings", 0)),
        }
        self._answers.put("summary", texts, (), answer)
        return answer

    async def forecast(self, arg: Any) -> dict[str, Any]:
        a = single_argument(arg)
        days = _int_arg(a, "days", 7, 1, MAX_FORECAST_DAYS)
        item_id = a.get("itemId")
        if item_id is not None and not isinstance(item_id, str):
            raise BadArgument("itemId: expected a string")
        facts, parsed = await self._series(a)
        settings = await self._settings(facts.tenant_id)
        if item_id is None and days <= MODEL_HORIZON_DAYS:
            model = await self._model(facts, settings, parsed)
            fc = dict(model["forecast"])
            fc["points"] = fc["points"][:days]
            trained_at = model["trainedAt"]
        else:
            # Fitted per call, from the series alone: the same series and arguments, the same answer.
            closed = settings_closed_weekdays(settings)
            texts, args, now = (facts.text,), (item_id, days, tuple(closed)), datetime.now(UTC)
            name = f"forecast/{item_id}/{days}"
            cached = self._answers.get(name, texts, args, now)
            if cached is not None:
                return cached
            state = await self._whole(parsed)
            fc = await run_cpu_bound(worker.run, "item_forecast", state, item_id, days, closed)
            answer = fc | {"locationId": self.id.id, "itemId": item_id, "trainedAt": now.isoformat()}
            self._answers.put(name, texts, args, answer)
            return answer
        return fc | {"locationId": self.id.id, "itemId": item_id, "trainedAt": trained_at}

    async def anomalies(self, arg: Any) -> dict[str, Any]:
        a = single_argument(arg)
        since, until = _as_day(a.get("from"), "from"), _as_day(a.get("to"), "to")
        facts, parsed = await self._series(a)
        model = await self._model(facts, await self._settings(facts.tenant_id), parsed)

        def within(day: str) -> bool:
            return (since is None or day >= since) and (until is None or day <= until)

        days = [x for x in model["anomalies"] if within(x["businessDay"])]
        hours = [x for x in model["hourlyAnomalies"] if within(x["at"][:10])]
        # The current labels (a change shows at once; the model follows at its retrain).
        weather = await self._read_json(WEATHER_KEY, {"heavyRain": []})
        rainy = [d for d in weather["heavyRain"] if within(d)]
        return {
            "locationId": self.id.id,
            "trainedAt": model["trainedAt"],
            "days": days,
            "hours": hours,
            "heavyRainDays": rainy,
        }

    async def recommendations(self, arg: Any) -> dict[str, Any]:
        """The open recommendations (after what owners dismissed: feedback.open_recommendations),
        then those acted on, each with its status; accepted menu changes with their measure."""
        facts, parsed = await self._series(single_argument(arg))
        settings = await self._settings(facts.tenant_id)
        model = await self._model(facts, settings, parsed)
        now = datetime.now(UTC)
        today = feedback.business_day_of(now, settings["timeZone"], int(settings["cutoverHour"]))
        # What the listing is computed from (the model may have just been retrained above).
        texts = tuple([await self._text(key) for key in (STATE_KEY, MODEL_KEY, FEEDBACK_KEY)])
        cached = self._answers.get("recommendations", texts, (today,), now)
        if cached is not None:
            return cached
        fb: feedback.FeedbackState = await self._read_json(FEEDBACK_KEY, feedback.empty_feedback())
        items = feedback.listing(model["recommendations"], fb, await self._whole(parsed), now, today)
        answer = {"locationId": self.id.id, "trainedAt": model["trainedAt"], "items": items}
        contracts.validate("ai.answer.recommendations", answer)  # packages/contracts
        # The listing depends on the clock only through dismissals leaving their window.
        self._answers.put("recommendations", texts, (today,), answer, feedback.window_changes_at(fb, now))
        return answer

    async def act_on_recommendation(self, arg: Any) -> dict[str, Any]:
        """Accept or dismiss one of the recommendations the location's model gives. A client
        mistake is an answer, not an exception (`result`: unknown, conflict), and writes nothing."""
        a = single_argument(arg)
        rec_id, action, reason, user_id = a.get("id"), a.get("action"), a.get("reason"), a.get("userId")
        if not isinstance(rec_id, str) or not 0 < len(rec_id) <= 200:
            raise BadArgument("id: expected a recommendation id")
        if action not in ("accepted", "dismissed"):
            raise BadArgument("action: expected accepted or dismissed")
        if action == "dismissed" and (
            not isinstance(reason, str) or not 0 < len(reason.strip()) <= feedback.MAX_REASON_CHARS
        ):
            raise BadArgument(f"reason: expected 1 to {feedback.MAX_REASON_CHARS} characters")
        state = await self._load(a)
        settings = await self._settings(state.get("tenantId"))
        model = await self._read_json(MODEL_KEY, None)
        fb: feedback.FeedbackState = await self._get_json(FEEDBACK_KEY, feedback.empty_feedback())
        now = datetime.now(UTC)
        today = feedback.business_day_of(now, settings["timeZone"], int(settings["cutoverHour"]))
        try:
            record, new = feedback.act(
                fb,
                model["recommendations"] if model else [],
                rec_id,
                action,
                now=now,
                business_day=today,
                user_id=user_id if isinstance(user_id, str) else None,
                dismiss_reason=reason.strip() if action == "dismissed" and isinstance(reason, str) else None,
            )
        except feedback.UnknownRecommendation as err:
            return {"locationId": self.id.id, "result": "unknown", "message": str(err), "item": None}
        except feedback.AlreadyActed as err:
            return {"locationId": self.id.id, "result": "conflict", "message": str(err), "item": None}
        if new:
            await self._set_json(FEEDBACK_KEY, fb)
            await self._state_manager.save_state()
            log.info(
                "recommendation acted on",
                extra={"locationId": self.id.id, "recommendation": rec_id, "action": action},
            )
        answer = {
            "locationId": self.id.id,
            "result": "recorded" if new else "unchanged",
            "message": None,
            "item": feedback.view(record, state, today),
        }
        return contracts.validate("ai.answer.recommendation-action", answer)  # packages/contracts

    async def pricing(self, arg: Any) -> dict[str, Any]:
        a = single_argument(arg)
        competitors = a.get("competitors")
        if not isinstance(competitors, list) or not competitors or len(competitors) > 200:
            raise BadArgument("competitors: expected 1 to 200 entries")
        for c in competitors:
            prices = c.get("pricesVnd") if isinstance(c, dict) else None
            if (
                not isinstance(c, dict)
                or not isinstance(c.get("itemId"), str)
                or not isinstance(prices, list)
            ):
                raise BadArgument("competitors[]: expected {itemId, pricesVnd: [int]}")
            if not prices or not all(isinstance(p, int) and p > 0 for p in prices):
                raise BadArgument("competitors[].pricesVnd: expected positive integers (VND)")
        state = await self._load(a)
        result = await run_cpu_bound(worker.run, "pricing", state, competitors)
        return result | {"locationId": self.id.id}

    async def request_retrain(self, arg: Any) -> dict[str, Any]:
        """Schedules a one-off retrain through the scheduler (owners' "refresh now", and tests)."""
        a = single_argument(arg)
        due = _int_arg(a, "dueInSeconds", 0, 0, 86_400)
        await self.register_reminder(ONE_SHOT_REMINDER, b"{}", timedelta(seconds=due), None)
        return {"scheduledInSeconds": due}

    async def settings_changed(self, arg: Any) -> dict[str, Any]:
        """auth's location.changed for this location, `{tenantId}`: a retrain now, which asks auth
        for the settings (the source of truth, whatever order changes arrive in), so that new
        opening days count at once rather than at the next daily retrain. A location with no
        history has nothing to retrain (its first event asks auth anyway); an event naming another
        tenant than the series' is answered `rejected` (a contract violation: never retried)."""
        a = single_argument(arg)
        facts, _ = await self._series()
        if facts.tenant_id is None:
            return {"retrain": False}
        if a.get("tenantId") != facts.tenant_id:
            return {"retrain": False, "rejected": "tenant-mismatch"}
        await self.register_reminder(ONE_SHOT_REMINDER, b"{}", timedelta(seconds=0), None)
        return {"retrain": True}

    async def set_heavy_rain(self, arg: Any) -> dict[str, Any]:
        """An owner or manager says whether a business day had heavy rain, `{tenantId, businessDay,
        heavyRain, userId?}`. A day the location cannot have yet (after its current business day),
        one too old to matter, or a location with no history (no tenant to check the caller
        against) is answered `refused` and writes nothing. A change retrains shortly after
        (`RETRAIN_AFTER_RAIN_MARK`), so the anomalies are measured against the day's weather
        without waiting for the daily retrain."""
        a = single_argument(arg)
        tenant_id, user_id = a.get("tenantId"), a.get("userId")
        if not isinstance(tenant_id, str) or not tenant_id:
            raise BadArgument("tenantId: expected a tenant id")
        day = _business_day_arg(a.get("businessDay"), "businessDay")
        heavy = a.get("heavyRain")
        if not isinstance(heavy, bool):
            raise BadArgument(f"heavyRain: expected true or false, got {heavy!r}")
        facts, _ = await self._series(a)  # another tenant's caller: "not found", as elsewhere

        def answer(result: str, message: str | None, count: int) -> dict[str, Any]:
            return {
                "result": result,
                "message": message,
                "businessDay": day,
                "heavyRain": heavy,
                "heavyRainDays": count,
            }

        if facts.tenant_id is None:
            return answer("refused", "This location has no orders yet.", 0)
        weather = await self._get_json(WEATHER_KEY, {"heavyRain": []})
        settings = await self._settings(facts.tenant_id)
        now = datetime.now(UTC)
        today = feedback.business_day_of(now, settings["timeZone"], int(settings["cutoverHour"]))
        labelled = set(weather["heavyRain"])
        count = len(kept_rain_days(labelled, today))
        if day > today:
            return answer("refused", f"{day} is after the current business day, {today}.", count)
        if day < oldest_rain_day(today):
            too_old = f"{day} is more than {MAX_WEATHER_AGE_DAYS} days before the current business day."
            return answer("refused", too_old, count)
        if (day in labelled) == heavy:
            return answer("unchanged", None, count)
        after = kept_rain_days(labelled | {day} if heavy else labelled - {day}, today)
        await self._set_json(WEATHER_KEY, {"heavyRain": after})
        await self._state_manager.save_state()
        # The anomalies use the labels from the next training on: that training comes shortly
        # (re-registering the reminder moves it: a burst of marks retrains once).
        await self.register_reminder(ONE_SHOT_REMINDER, b"{}", RETRAIN_AFTER_RAIN_MARK, None)
        log.info(
            "heavy rain recorded",
            extra={
                "locationId": self.id.id,
                "businessDay": day,
                "heavyRain": heavy,
                "userId": user_id if isinstance(user_id, str) else None,
            },
        )
        return answer("recorded", None, len(after))

    async def receive_reminder(
        self,
        name: str,
        state: bytes,
        due_time: timedelta,
        period: timedelta | None,
        ttl: timedelta | None = None,
    ) -> None:
        series = await self._load()
        # Settings asked again at every retrain: an owner's new opening days count from here.
        settings = await self._settings(series.get("tenantId"), may_fetch=True, refresh=True)
        model = await self._train(series, settings)
        published = await self._get_json(PUBLISHED_KEY, {"ids": [], "trainings": 0})
        # Dismissed kinds come back less in the feed too (feedback.open_recommendations).
        fb: feedback.FeedbackState = await self._read_json(FEEDBACK_KEY, feedback.empty_feedback())
        still_open = feedback.open_recommendations(model["recommendations"], fb, datetime.now(UTC))
        sent = await publish_findings(
            self.id.id,
            series.get("tenantId"),
            settings,
            model | {"recommendations": still_open},
            published["ids"],
        )
        published["ids"] = (published["ids"] + sent)[-1000:]
        published["trainings"] = int(published.get("trainings", 0)) + 1
        published["lastReminder"] = {"name": name, "at": datetime.now(UTC).isoformat()}
        await self._set_json(PUBLISHED_KEY, published)
        await self._state_manager.save_state()
        log.info(
            "retrained",
            extra={
                "locationId": self.id.id,
                "reminder": name,
                "published": len(sent),
                "model": model["version"],
            },
        )

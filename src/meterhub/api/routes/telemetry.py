"""Telemetry for residents: an account's meters, consumption charts, reading submission, building charts and
tariff advice. Thin: the rules live in ``billing/`` (consumption_series, reading_submission,
building_charts, tariff_advice) and the reads in ``billing/resident_loaders`` and
``timeseries/resident_queries``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter

from meterhub.api import labels_ru
from meterhub.api.deps import AccountNo, BuildingId, Conn, CurrentUser
from meterhub.api.notifications import notify_reading_accepted
from meterhub.api.response_cache import PAST_TTL_SECONDS, RECENT_TTL_SECONDS, ResponseCache
from meterhub.api.roles import Role
from meterhub.api.routes.telemetry_schemas import (
    BuildingChartsOut,
    ChartMonthOut,
    ConsumptionOut,
    MessageOut,
    MeterOut,
    MonthCostOut,
    ReadingAccepted,
    ReadingIn,
    RegisterOut,
    SchemeCostOut,
    ServiceChartOut,
    TariffAdviceOut,
    UnavailableOut,
    ZoneCostOut,
)
from meterhub.api.schemas import money
from meterhub.billing.close.loader import READINGS_WINDOW_DAY
from meterhub.billing.receipts.labels import money as ru_money
from meterhub.billing.residents import building_chart_inputs, loaders, submission_store
from meterhub.billing.residents.consumption_series import ConsumptionChart, NoTariffError, Resolution, Unit
from meterhub.billing.residents.reading_submission import SubmissionRules, validate_submission
from meterhub.billing.rules.rounding import strip_zeros
from meterhub.billing.rules.zones import ZoneScheme

__all__ = ["get_now", "router"]

router = APIRouter(tags=["telemetry"])

SUBMISSION_RULES = SubmissionRules(window_last_day=READINGS_WINDOW_DAY)
MAX_DAYS = {Resolution.HOUR: 366, Resolution.DAY: 1100, Resolution.MONTH: 3700}
_SCHEME_RU = {scheme: labels_ru.scheme_ru(scheme) for scheme in ZoneScheme}


def _cache(request: Request) -> ResponseCache:
    return request.app.state.response_cache


async def get_now() -> datetime:
    """The current UTC time (a dependency so tests can freeze the clock)."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(get_now)]
MeterIdPath = Annotated[str, Path(min_length=1, max_length=64, description="meter id, e.g. EAP-00123456")]


def _unprocessable(en: str, ru: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{en} ({ru})")


def _context(conn, account_no: str, request: Request | None = None) -> loaders.AccountContext:
    """The account's building, premise and time zone; with ``request`` from the process's cache (they
    change only when an account is moved, which shows within RECENT_TTL_SECONDS)."""
    if request is not None:
        ctx = _cache(request).get_or_build(
            ("context", account_no), RECENT_TTL_SECONDS, lambda: loaders.account_context(conn, account_no)
        )
    else:
        ctx = loaders.account_context(conn, account_no)
    if ctx is None:  # account_access already checked existence; a concurrent delete
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} not found")
    return ctx


async def _context_async(conn, account_no: str, request: Request) -> loaders.AccountContext:
    """:func:`_context` without a thread hop when this process has it cached."""
    ctx = _cache(request).peek(("context", account_no))
    if ctx is None:
        ctx = await run_in_threadpool(_context, conn, account_no, request)
    return ctx  # type: ignore[return-value]


async def _answer(request: Request, conn, key: tuple, ttl: float, build: Callable[[], bytes]) -> Response:
    """The cached JSON answer of ``key``: from this process's cache on the event loop (no thread, no
    database), else from the shared cache or ``build()`` in a worker thread (they read the database)."""
    cache = _cache(request)
    body = cache.peek(key)
    if body is None:
        body = await run_in_threadpool(cache.get_or_build_shared, conn, key, ttl, build)
    return Response(body, media_type="application/json")


def _meter(conn, account_no: str, meter_id: str, *, with_latest: bool = True) -> loaders.AccountMeter:
    found = loaders.account_meters(conn, account_no, meter_id=meter_id, with_latest=with_latest)
    if not found:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"meter {meter_id} is not linked to account {account_no} "
            "(счётчик не найден в этом лицевом счёте)",
        )
    return found[0]


def _today(ctx: loaders.AccountContext, now: datetime) -> date:
    return now.astimezone(ZoneInfo(ctx.time_zone)).date()


# --- meters ---------------------------------------------------------------------------------------------


def _num(value: float | None) -> str | None:
    if value is None:
        return None
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@router.get(
    "/accounts/{account_no}/meters",
    response_model=list[MeterOut],
    summary="Meters of an account with latest readings, registers/zones and verification dates",
)
async def list_meters(account_no: AccountNo, conn: Conn, now: Now, request: Request) -> Response:
    ctx = await _context_async(conn, account_no, request)
    today = _today(ctx, now)
    return await _answer(
        request,
        conn,
        ("meters", account_no, today),
        RECENT_TTL_SECONDS,  # latest readings arrive hourly; a submitted reading drops it at once
        lambda: _METERS_JSON.dump_json(_meters(conn, account_no, ctx, today), by_alias=True),
    )


_METERS_JSON = TypeAdapter(list[MeterOut])


def _meters(conn, account_no: str, ctx: loaders.AccountContext, today: date) -> list[MeterOut]:
    result = []
    for m in loaders.account_meters(conn, account_no, on=today):
        tariffs = loaders.service_tariffs(
            conn, ctx.building_id, m.service, today, today + timedelta(days=1), account_no
        )
        status_ = m.verification_status(today, SUBMISSION_RULES.verification_warning_days)
        result.append(
            MeterOut(
                meter_id=m.meter_id,
                service=m.service,
                kind=m.kind,
                manufacturer=m.manufacturer,
                serial=m.serial,
                model=m.model,
                installed_on=m.installed_on,
                verification_due=m.verification_due,
                verification_status=status_,  # type: ignore[arg-type]
                multi_zone=m.multi_zone,
                tariff_scheme=tariffs[-1].scheme.value if tariffs else None,
                tariff_scheme_name=labels_ru.scheme_ru(tariffs[-1].scheme) if tariffs else None,
                registers=[
                    RegisterOut.model_validate(
                        {
                            "label": r.label,
                            "register": r.register,
                            "unit": r.unit,
                            "unit_name": labels_ru.unit_ru(r.unit),
                            "zone": r.zone,
                            "zone_name": labels_ru.zone_ru(r.zone) if r.zone else None,
                            "latest_value": _num(r.latest_value),
                            "latest_at": r.latest_ts,
                            "latest_source": r.latest_source,
                        }
                    )
                    for r in m.registers
                ],
                accepts_readings=bool(m.registers) and status_ != "expired",
                submission_window_last_day=SUBMISSION_RULES.window_last_day,
            )
        )
    return result


# --- consumption ------------------------------------------------------------------------------------------


def _series_json(chart: ConsumptionChart, first: date, end: date) -> str:
    return (
        f'"start":"{first.isoformat()}","end":"{end.isoformat()}",'
        f'"points":{chart.rows_json()},"total":"{chart.total_text}"'
    )


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@router.get(
    "/accounts/{account_no}/meters/{meter_id}/consumption",
    response_model=ConsumptionOut,
    summary="Consumption series of a meter at hour/day/month resolution in the building's time zone",
    description=(
        "Buckets are local hours, days or months of `[start, end)` (local dates). Each point has the worst "
        "quality of its hours (`missing` when it has no billable hour), the value per tariff zone of the "
        "tariffs in force (hour of day in local time) and, with `unit=rub`, the amount at those tariffs "
        "rounded to kopecks per bucket and zone. Limits: 366 days hourly, 1100 daily, 3700 monthly. "
        "With `compare=last_year` the same dates a year earlier come in `previous`; when they cannot be "
        "priced in ₽ (no tariff then) `previous` is absent and `previous_unavailable_ru` says why."
    ),
)
async def consumption(
    account_no: AccountNo,
    meter_id: MeterIdPath,
    conn: Conn,
    start: Annotated[date, Query(description="first local day (inclusive)", examples=["2026-01-01"])],
    end: Annotated[
        date, Query(description="local day after the last one (exclusive)", examples=["2026-02-01"])
    ],
    resolution: Resolution = Resolution.DAY,
    unit: Unit = Unit.VOLUME,
    compare: Annotated[
        Literal["last_year"] | None, Query(description="add the same dates a year earlier")
    ] = None,
    *,
    request: Request,
    now: Now,
) -> Response:
    if end <= start:
        raise _unprocessable(
            f"end {end} must be after start {start}", "конец периода должен быть позже начала"
        )
    if (end - start).days > MAX_DAYS[resolution]:
        raise _unprocessable(
            f"at most {MAX_DAYS[resolution]} days at {resolution} resolution, got {(end - start).days}",
            "слишком длинный период для выбранного шага",
        )
    if start.year < 2000 or end.year > 2100:
        raise _unprocessable("dates must be within 2000..2100", "даты должны быть в пределах 2000–2100 гг.")
    ctx = await _context_async(conn, account_no, request)
    today = _today(ctx, now)
    key = ("consumption", account_no, meter_id, start, end, resolution, unit, compare, today)
    ttl = PAST_TTL_SECONDS if end <= today else RECENT_TTL_SECONDS

    def build() -> bytes:  # the meter is looked up (404 when not the account's) only to build the answer
        meter = _meter(conn, account_no, meter_id, with_latest=False)
        return _consumption_body(conn, ctx, meter, start, end, resolution, unit, compare)

    return await _answer(request, conn, key, ttl, build)


def _consumption_body(conn, ctx, meter, start, end, resolution, unit, compare) -> bytes:
    try:
        chart = loaders.consumption_chart(conn, ctx, meter, start, end, resolution, unit)
    except NoTariffError as exc:
        raise _unprocessable(str(exc), exc.message_ru) from None
    previous = previous_unavailable = None
    if compare == "last_year":
        p_start, p_end = _year_earlier(start), _year_earlier(end)
        try:
            previous = loaders.consumption_chart(conn, ctx, meter, p_start, p_end, resolution, unit)
        except NoTariffError as exc:  # last year cannot be priced: this period alone, and why
            previous_unavailable = f"Сравнение с прошлым годом недоступно: {exc.message_ru}."
    unit_label = "₽" if unit is Unit.RUB else (meter.registers[0].unit if meter.registers else "")
    head = json.dumps(
        {
            "meter_id": meter.meter_id,
            "time_zone": ctx.time_zone,
            "resolution": resolution.value,
            "unit": unit.value,
            "unit_label": unit_label,
            "unit_name": labels_ru.unit_ru(unit_label),
            "zones": list(chart.zones),
            "zone_names": {z: labels_ru.zone_ru(z) for z in chart.zones},
        },
        ensure_ascii=False,
    )[:-1]
    body = head + "," + _series_json(chart, start, end)
    if previous is not None:
        body += ',"previous":{' + _series_json(previous, _year_earlier(start), _year_earlier(end)) + "}"
    if previous_unavailable is not None:
        body += ',"previous_unavailable_ru":' + json.dumps(previous_unavailable, ensure_ascii=False)
    return (body + "}").encode()


# --- readings ---------------------------------------------------------------------------------------------


@router.post(
    "/accounts/{account_no}/meters/{meter_id}/readings",
    response_model=ReadingAccepted,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a reading (per zone for multi-zone meters)",
    description=(
        "Checks: every register of the meter, not lower than the previous reading unless a replacement is "
        "recorded, plausible against the physical maximum and the history (unusually high needs "
        "`confirm: true`), the verification date, and the window: readings taken up to the 25th count for "
        "the month, later ones for the next. 422 `detail` = `{message, message_ru, errors: [{code, "
        "register, ru, en}], warnings}`. Stored as a manual reading (source manual)."
    ),
    responses={422: {"description": "the reading is not accepted; `detail.errors` says why"}},
)
def submit_reading(
    account_no: AccountNo,
    meter_id: MeterIdPath,
    body: ReadingIn,
    conn: Conn,
    user: CurrentUser,
    now: Now,
    request: Request,
) -> ReadingAccepted:
    if body.taken_at is not None and not 2000 <= body.taken_at.year <= 2100:
        raise _unprocessable(
            "taken_at must be within 2000..2100", "дата снятия показаний вне допустимого диапазона"
        )
    ctx = _context(conn, account_no)
    meter = _meter(conn, account_no, meter_id)
    if not meter.registers:
        raise _unprocessable(f"meter {meter_id} has no counter register", "у счётчика нет шкал для показаний")
    state = submission_store.submission_meter(conn, meter, now)
    result = validate_submission(
        state,
        body.values,
        taken_at=body.taken_at or now,
        now=now,
        tz=ctx.time_zone,
        rules=SUBMISSION_RULES,
        confirm=body.confirm,
    )
    if not result.accepted:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "message": "; ".join(e.en for e in result.errors),
                "message_ru": " ".join(e.ru for e in result.errors),
                "errors": [e.as_dict() for e in result.errors],
                "warnings": [w.as_dict() for w in result.warnings],
            },
        )
    try:
        stored = submission_store.submit_reading(
            conn,
            ctx,
            meter,
            result,
            user_id=user.id,
            window_last_day=SUBMISSION_RULES.window_last_day,
            now=now,
        )
    except submission_store.SubmissionRejected as exc:
        raise _unprocessable(str(exc), "показание не сохранено, попробуйте ещё раз") from None
    _cache(request).drop_scope(conn, account_no)  # the account's series include this reading
    if user.role is Role.RESIDENT:  # the answer in the cabinet (and by e-mail when the resident wants it)
        notify_reading_accepted(
            conn,
            user.id,
            account_no,
            f"№ {meter.serial or meter.meter_id}",
            result.values,
            str(stored.counts_for),
            stored.submission_id,
        )
    return ReadingAccepted(
        meter_id=meter.meter_id,
        taken_at=result.taken_at,
        values={k: str(v) for k, v in result.values.items()},
        consumption={k: _s(strip_zeros(v)) or "0" for k, v in result.consumption.items()},
        counts_for=str(stored.counts_for),
        next_bill_period=str(stored.next_bill_period),
        next_bill_method=stored.next_bill_method.value,  # type: ignore[arg-type]
        warnings=[MessageOut.model_validate(w) for w in stored.warnings],
        submission_id=stored.submission_id,
    )


# --- building charts --------------------------------------------------------------------------------------


def _s(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _v(value: Decimal | None) -> str | None:
    """A volume without trailing zeros (numeric columns carry 6 decimals)."""
    return None if value is None else format(strip_zeros(value), "f")


@router.get(
    "/buildings/{building_id}/charts",
    response_model=BuildingChartsOut,
    summary="House consumption by month per m² and per person, common-property coefficient, vs last year",
)
async def building_charts(
    building_id: BuildingId,
    conn: Conn,
    now: Now,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="default: the current year")] = None,
    service: Annotated[
        Literal["electricity", "cold_water", "hot_water", "wastewater", "heat"] | None,
        Query(description="one service (default: every service with a house meter or common property)"),
    ] = None,
    *,
    request: Request,
) -> Response:
    tz_row = _cache(request).peek(("building_zone", building_id)) or await run_in_threadpool(
        _cache(request).get_or_build,
        ("building_zone", building_id),
        RECENT_TTL_SECONDS,
        lambda: conn.execute(
            "SELECT time_zone FROM buildings WHERE building_id = %s", (building_id,)
        ).fetchone(),
    )
    today = now.astimezone(ZoneInfo(tz_row[0])).date() if tz_row else now.date()
    year = year or today.year
    key = ("charts", building_id, year, service, today)
    ttl = PAST_TTL_SECONDS if year < today.year else RECENT_TTL_SECONDS
    return await _answer(
        request,
        conn,
        key,
        ttl,
        lambda: _building_charts(conn, building_id, year, today, service).model_dump_json().encode(),
    )


def _building_charts(conn, building_id: str, year: int, today: date, service: str | None):
    tz_name, area, charts = building_chart_inputs.building_charts(
        conn, building_id, year, today, [service] if service else None
    )
    return BuildingChartsOut(
        building_id=building_id,
        year=year,
        time_zone=tz_name,
        total_area_m2=format(area.normalize(), "f"),
        services=[
            ServiceChartOut(
                service=c.service,
                unit=c.unit,
                unit_name=labels_ru.unit_ru(c.unit),
                total=_v(c.total),
                previous_total=_v(c.previous_total),
                change_percent=_s(c.change_percent),
                months=[
                    ChartMonthOut(
                        month=m.month,
                        volume=_v(m.volume),
                        source=m.source,  # type: ignore[arg-type]
                        per_m2=_s(m.per_m2),
                        per_person=_s(m.per_person),
                        persons=m.persons,
                        common_per_m2=_s(m.common_per_m2),
                        common_share_percent=_s(m.common_share),
                        common_method=m.common_method,
                        previous_volume=_v(m.previous_volume),
                        previous_per_m2=_s(m.previous_per_m2),
                        previous_per_person=_s(m.previous_per_person),
                        previous_common_per_m2=_s(m.previous_common_per_m2),
                        change_percent=_s(m.change_percent),
                    )
                    for m in c.months
                ],
                **_like_for_like(c.months),
            )
            for c in charts
        ],
    )


def _like_for_like(months) -> dict[str, object]:
    """The year-on-year comparison over the same months only (both years have a house volume)."""
    both = [m for m in months if m.volume is not None and m.previous_volume is not None]
    if not both:
        return {"comparable_months": []}
    current = sum((m.volume for m in both), Decimal(0))
    previous = sum((m.previous_volume for m in both), Decimal(0))
    change = None
    if previous > 0:
        change = ((current - previous) / previous * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {
        "comparable_months": [m.month for m in both],
        "comparable_total": _v(current),
        "comparable_previous_total": _v(previous),
        "comparable_change_percent": _s(change),
    }


# --- tariff advice ---------------------------------------------------------------------------------------


def _rub(amount: Decimal) -> str:
    """``1 860,00``: thousands spaced and a decimal comma, like every amount the resident reads."""
    return ru_money(Decimal(money(amount).rubles))


def _advice_message(advice) -> str:
    """The verdict in Russian. The resident's tariff is called «текущий» only when it is theirs: when it is
    among the cheapest the advice is to stay on it (a tie with another scheme is said, not hidden)."""
    if advice.cheapest is None:
        return "Нет тарифов для сравнения."
    months = len(advice.periods)
    name = _SCHEME_RU[advice.cheapest]
    if advice.current is not None and advice.cheapest == advice.current:
        others = [_SCHEME_RU[s] for s in advice.tied if s != advice.current]
        if others:
            return (
                f"Ваш текущий тариф ({name}) — среди самых выгодных: {' и '.join(others)} обошёлся бы "
                f"столько же ({_rub(advice.costs[advice.current].total)} ₽ за {months} мес.). "
                "Менять тариф не нужно."
            )
        return f"Ваш текущий тариф ({name}) — самый выгодный."
    if advice.saving and advice.saving > 0 and advice.baseline is not None:
        against = (
            f"вашим текущим тарифом ({_SCHEME_RU[advice.baseline]})"
            if advice.baseline == advice.current
            else f"тарифом «{_SCHEME_RU[advice.baseline]}»"
        )
        saving = _rub(advice.saving)
        return f"Выгоднее всего {name} тариф: экономия {saving} ₽ за {months} мес. по сравнению с {against}."
    return f"Самый выгодный — {name} тариф."


@router.get(
    "/accounts/{account_no}/tariff-advice",
    response_model=TariffAdviceOut,
    summary="Cost of the last 12 months of hourly electricity under single/two/three-zone tariffs",
    description=(
        "The last 12 full local months of the account's electricity meter, priced like the close (each "
        "month's zone lines rounded to kopecks) under the tariffs in force for the building: "
        "`tariff_options` rows of each scheme, else the billed tariff's own scheme and single-rate price."
    ),
)
async def tariff_advice(account_no: AccountNo, conn: Conn, now: Now, request: Request) -> Response:
    ctx = await _context_async(conn, account_no, request)
    today = _today(ctx, now)
    return await _answer(
        request,
        conn,
        ("advice", account_no, today),
        PAST_TTL_SECONDS,  # the 12 full months before this one
        lambda: _tariff_advice(conn, account_no, ctx, today).model_dump_json().encode(),
    )


def _tariff_advice(conn, account_no: str, ctx, today: date) -> TariffAdviceOut:
    meters, advice = loaders.tariff_advice_for_account(conn, ctx, today)
    if advice is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"account {account_no} has no electricity meter (у лицевого счёта нет счётчика электроэнергии)",
        )
    return TariffAdviceOut(
        account_no=account_no,
        meter_ids=[m.meter_id for m in meters],
        period_from=str(advice.periods[0]),
        period_to=str(advice.periods[-1]),
        volume_kwh=_v(advice.volume) or "0",
        hours_present=advice.hours_present,
        hours_expected=advice.hours_expected,
        complete=advice.complete,
        current_scheme=advice.current,
        cheapest=advice.cheapest,
        baseline_scheme=advice.baseline,
        saving=money(advice.saving) if advice.saving is not None else None,
        options=[
            SchemeCostOut(
                scheme=scheme,
                name_ru=_SCHEME_RU[scheme],
                total=money(cost.total),
                zones=[
                    ZoneCostOut(
                        zone=z.value,
                        zone_name=labels_ru.zone_ru(z),
                        volume_kwh=_v(cost.volumes[z]) or "0",
                        amount=money(a),
                    )
                    for z, a in cost.amounts.items()
                ],
                months=[MonthCostOut(period=str(m.period), amount=money(m.amount)) for m in cost.months],
            )
            for scheme, cost in advice.costs.items()
        ],
        unavailable=[
            UnavailableOut(scheme=s, reason=r, reason_ru=advice.unavailable_ru.get(s, r))
            for s, r in advice.unavailable.items()
        ],
        message_ru=_advice_message(advice),
    )

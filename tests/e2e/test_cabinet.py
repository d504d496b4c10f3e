"""The resident cabinet in a real headless Chromium against the real app (uvicorn) and database.

Known data (see conftest.py): alice / LS-1, electricity meter E-1, two-zone tariff day 7–23 at
6.00 ₽/kWh and night 23–7 at 3.00 ₽/kWh, 0.5 kWh every hour of January 2026, so 2026-01-15 is:

    volume: 24 h × 0.5 kWh = 12 kWh (day 16 h × 0.5 = 8 kWh, night 8 h × 0.5 = 4 kWh)
    money:  8 kWh × 6.00 ₽ + 4 kWh × 3.00 ₽ = 48.00 ₽ + 12.00 ₽ = 60.00 ₽
    a year earlier (2025-01-15): 24 h × 0.4 kWh = 9.6 kWh → change (12 − 9.6) / 9.6 = +25 %

Screenshots of every step go to the artifacts directory (tests/e2e/artifacts or
$METERHUB_TEST_ARTIFACTS).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import (
    DEMO_ACCOUNT,
    DEMO_METER,
    ESTIMATED_DAY,
    KNOWN_DAY,
    PHONE,
    log_in,
    screenshot,
    wait_ready,
)
from tests.e2e.harness import browser_missing_reason

try:
    from playwright.sync_api import expect
except ImportError:  # every test below is skipped then, with the reason
    expect = None

_NO_BROWSER = browser_missing_reason()
pytestmark = [pytest.mark.db, pytest.mark.skipif(_NO_BROWSER is not None, reason=_NO_BROWSER or "")]

NBSP = "\u00a0"


def consumption_url(period: str = "day", date: str = KNOWN_DAY, unit: str = "volume", **extra: str) -> str:
    query = f"meter={DEMO_METER}&period={period}&date={date}&unit={unit}"
    query += "".join(f"&{k}={v}" for k, v in extra.items())
    return f"/cabinet/consumption?account={DEMO_ACCOUNT}&{query}"


def wait_chart(page) -> None:
    page.wait_for_selector("#chart[data-loading=false]")


def bar_count(page) -> int:
    return page.locator("#chart svg g.bar").count()


def test_login_is_required_and_wrong_password_is_refused(open_page):
    page = open_page()
    page.goto("/cabinet/consumption")
    assert "/cabinet/login" in page.url, "a page without a session must send the browser to the login page"
    page.fill("#username", "alice")
    page.fill("#password", "not-the-password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "Неверный логин или пароль" in page.inner_text("#login-error")
    screenshot(page, "01-login-wrong-password")


def test_login_lands_on_the_page_asked_for_and_overview_shows_the_account(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/receipts")
    assert page.url.endswith("/cabinet/receipts")
    page.click("nav.mainnav a[href='/cabinet/']")
    wait_ready(page)
    page.wait_for_selector("#overview:not([hidden])")
    assert page.locator("#balance").inner_text().endswith("₽")
    details = page.inner_text("#account-details")
    assert DEMO_ACCOUNT in details
    # the latest period's itemised charges: the lines add up to the total shown under them
    page.wait_for_selector("#charges-card:not([hidden])")
    amounts = page.locator("#charges-table tbody td.num").all_inner_texts()
    assert amounts, "the charges of January 2026 are listed"

    def rub(text: str) -> Decimal:
        return Decimal(text.replace(NBSP, "").replace("₽", "").replace(",", ".").replace("−", "-"))

    assert sum(map(rub, amounts)) == rub(page.inner_text("#charges-table tfoot th.num"))
    assert page.locator("#last-receipt a[download]").get_attribute("href").endswith("/receipts/2026-01.pdf")
    assert page.locator("#page-status").is_hidden(), page.inner_text("#page-status")
    screenshot(page, "02-overview")


def test_logout_and_an_expired_session_both_lead_back_to_login(open_page):
    page = open_page()
    log_in(page)
    page.click("#logout")
    page.wait_for_url("**/cabinet/login")
    page.goto("/cabinet/")
    assert "/cabinet/login" in page.url, "after logging out the cabinet must ask to log in again"

    # A cookie the server no longer knows (expired or revoked session): the page shell is sent, its first
    # API call gets 401 and the script goes to the login page with the way back.
    page.context.add_cookies([{"name": "mh_session", "value": "expired-session", "url": page.url}])
    page.goto("/cabinet/receipts")
    page.wait_for_url("**/cabinet/login?next=*")
    assert "next=%2Fcabinet%2Freceipts" in page.url


def test_staff_without_resident_access_get_an_explanation(open_page):
    page = open_page()
    log_in(page, username="eng")  # an engineer: /accounts is 403 for this role
    status = page.locator("#page-status")
    expect(status).to_be_visible()
    assert "для жителей" in status.inner_text()


def test_too_many_wrong_passwords_are_answered_in_russian(open_page):
    page = open_page()
    page.goto("/cabinet/login")
    message = ""
    for _ in range(8):  # the per-user limit: 5 failures in the window (Settings.login_max_failures_per_user)
        page.fill("#username", "carol")
        page.fill("#password", "wrong-password-1")
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#login-error:not([hidden])")
        message = page.inner_text("#login-error")
        if "Слишком много" in message:
            break
        page.wait_for_selector("#login-form button[type=submit]:not([disabled])")
    assert "Слишком много неудачных попыток" in message


def test_a_two_zone_meter_takes_one_reading_per_zone(open_page):
    page = open_page()
    log_in(page, username="bob", next_path="/cabinet/readings")  # bob: LS-2 with E-2 (T1/T2 registers)
    card = page.locator("section.meter-card[data-meter='E-2']")
    card.wait_for()
    inputs = card.locator("input[data-key]")
    assert inputs.evaluate_all("xs => xs.map(x => x.dataset.key)") == ["T1", "T2"]
    text = card.inner_text()
    assert f"Предыдущее: 1{NBSP}150,5" in text and "Предыдущее: 580" in text, text
    inputs.nth(0).fill("1160,5")
    inputs.nth(1).fill("585")
    card.locator("button[type=submit]").click()
    result = card.locator(".result")
    expect(result).to_have_attribute("data-outcome", "accepted")
    # consumption since the previous readings: T1 1160.5 − 1150.5 = 10, T2 585 − 580 = 5
    assert f"T1: 10{NBSP}кВт·ч, T2: 5{NBSP}кВт·ч" in result.inner_text()
    screenshot(page, "09a-reading-two-zones")


def test_a_resident_without_accounts_links_one_with_the_code_from_the_receipt(open_page):
    from datetime import date

    from meterhub.api.link_codes import account_link_code, recent_periods
    from tests.e2e.conftest import TEST_SECRET

    page = open_page()
    log_in(page, username="dave")  # dave: a resident with no linked account
    page.wait_for_selector("#no-accounts:not([hidden])")
    screenshot(page, "02a-link-account")
    page.fill("#link-account", "LS-3")
    page.fill("#link-code", "AAAA-AAAA")
    page.click("#link-form button[type=submit]")
    page.wait_for_selector("#link-form .error:not([hidden])")
    assert "Неверный номер счёта или код" in page.inner_text("#link-form .error")

    code = account_link_code("LS-3", TEST_SECRET, recent_periods(date.today(), 1)[1])
    page.fill("#link-code", code.lower())  # case and dash do not matter
    with page.expect_navigation():
        page.click("#link-form button[type=submit]")
    wait_ready(page)
    page.wait_for_selector("#overview:not([hidden])")
    assert "LS-3" in page.inner_text("#account-details")


def test_day_chart_draws_24_hourly_bars_with_zones_and_switches_to_rubles(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/consumption")
    page.goto(consumption_url())
    wait_chart(page)
    assert bar_count(page) == 24
    assert page.inner_text("#period-title") == "15 января 2026"
    assert page.inner_text("#total") == f"12{NBSP}кВт·ч"
    rows = page.locator("#zones-table tbody tr").all()
    zones = {row.get_attribute("data-zone"): row.inner_text() for row in rows}
    assert set(zones) == {"day", "night"}
    assert f"8{NBSP}кВт·ч" in zones["day"] and "67 %" in zones["day"]
    assert f"4{NBSP}кВт·ч" in zones["night"] and "33 %" in zones["night"]
    bar_zones = page.locator("#chart svg g.bar").evaluate_all(
        "gs => gs.map(g => g.querySelector('rect.seg').dataset.zone)"
    )
    assert bar_zones == ["night"] * 7 + ["day"] * 16 + ["night"], "each hour is coloured by its tariff zone"
    screenshot(page, "03-consumption-day-volume")

    page.click("#unit-rub")
    page.wait_for_selector("#chart[data-unit=rub][data-loading=false]")
    assert bar_count(page) == 24
    assert page.inner_text("#total") == f"60,00{NBSP}₽"
    assert "/consumption" in page.url and "unit=rub" in page.url
    bars = page.locator("#chart svg g.bar")
    values = [float(v) for v in bars.evaluate_all("gs => gs.map(g => g.dataset.value)")]
    # 07:00–23:00 are day hours at 0.5 × 6.00 = 3.00 ₽; the rest night hours at 0.5 × 3.00 = 1.50 ₽
    assert values == [1.5] * 7 + [3.0] * 16 + [1.5]
    screenshot(page, "04-consumption-day-rub")


def test_period_switcher_back_forward_and_last_year_comparison(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/consumption")
    page.goto(consumption_url())
    wait_chart(page)

    page.click("#prev-period")
    expect(page.locator("#period-title")).to_have_text("14 января 2026")
    wait_chart(page)
    assert bar_count(page) == 24
    page.click("#next-period")
    expect(page.locator("#period-title")).to_have_text("15 января 2026")
    wait_chart(page)

    page.click("#compare")
    page.wait_for_selector("#chart svg rect.prev")
    wait_chart(page)
    assert page.locator("#chart svg rect.prev").count() == 24
    assert page.inner_text("#previous-total") == f"Год назад за те же часы: 9,6{NBSP}кВт·ч (+25 %)"
    screenshot(page, "05-consumption-compare")

    # In ₽ the API needs last year's tariff, which the test data does not have (tariffs from 2025-07-01):
    # the page shows this day alone and says why.
    page.click("#unit-rub")
    page.wait_for_selector("#chart[data-unit=rub][data-loading=false]")
    assert bar_count(page) == 24 and page.locator("#chart svg rect.prev").count() == 0
    assert page.inner_text("#total") == f"60,00{NBSP}₽"
    assert page.inner_text("#previous-total").startswith("Сравнение с прошлым годом недоступно: нет тарифа")
    page.click("#unit-volume")
    page.wait_for_selector("#chart[data-unit=volume][data-loading=false]")

    page.click("#period-switch [data-period=week]")
    expect(page.locator("#period-title")).to_have_text("12–18 января 2026")
    wait_chart(page)
    assert bar_count(page) == 7
    page.click("#period-switch [data-period=month]")
    expect(page.locator("#period-title")).to_have_text("Январь 2026")
    wait_chart(page)
    assert bar_count(page) == 31
    screenshot(page, "06-consumption-month")
    page.click("#period-switch [data-period=year]")
    expect(page.locator("#period-title")).to_have_text("2026 год")
    wait_chart(page)
    assert bar_count(page) == 1, "only January 2026 has data; the other months are gaps"
    assert page.locator("#chart svg g.gap").count() == 11
    screenshot(page, "07-consumption-year")


def test_estimated_hours_are_drawn_differently(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/consumption")
    page.goto(consumption_url(date=ESTIMATED_DAY))
    wait_chart(page)
    estimated = page.locator("#chart svg g.bar[data-quality=estimated]")
    assert estimated.count() == 4
    assert estimated.first.locator("rect.hatch").count() == 1
    hours = estimated.evaluate_all("gs => gs.map(g => Number(g.dataset.index))")
    assert hours == [10, 11, 12, 13]
    assert "4 из 24 значений рассчитаны" in page.inner_text("#quality-note")
    page.locator("#chart svg g.bar[data-index='11']").click()
    assert "оценка" in page.inner_text("#chart-info")
    page.keyboard.press("ArrowRight")  # the keyboard walks the bars too
    assert page.inner_text("#chart-info").startswith("20 января 2026, 12:00–13:00")
    page.keyboard.press("End")
    assert page.inner_text("#chart-info").startswith("20 января 2026, 23:00–00:00")
    screenshot(page, "08-consumption-estimated")


def test_submit_a_reading_and_see_it_accepted_then_a_lower_one_refused(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/readings")
    card = page.locator("section.meter-card[data-meter='W-1']")
    card.wait_for()
    card.locator("input[data-key]").first.fill("17,25")
    card.locator("button[type=submit]").click()
    result = card.locator(".result")
    result.wait_for(state="visible")
    assert result.get_attribute("data-outcome") == "accepted", result.inner_text()
    assert "Показания приняты" in result.inner_text()
    assert "Следующее начисление" in result.inner_text()
    screenshot(page, "09-reading-accepted")

    card.locator("input[data-key]").first.fill("3")
    card.locator("button[type=submit]").click()
    expect(result).to_have_attribute("data-outcome", "rejected")
    assert "не приняты" in result.inner_text()
    screenshot(page, "10-reading-refused")


def test_download_a_receipt_pdf(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/receipts")
    row = page.locator("#receipts-table tr[data-period='2026-01']")
    row.wait_for()
    screenshot(page, "11-receipts")
    with page.expect_download() as info:
        row.locator("a.receipt-pdf").click()
    download = info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:40]
    assert download.suggested_filename.endswith(".pdf")
    assert row.get_attribute("data-status") == "draft"  # the world's January is closed as a draft
    assert "предварительная" in row.inner_text()
    # the due day comes from the receipts list (penalty tables: the 10th of the next month)
    assert row.locator(".due-date").inner_text() == "оплатить до 10 февраля 2026"
    # the payment source is named in Russian, not by its code
    source = page.locator("#payments-table td[data-source='sber']")
    source.first.wait_for()
    assert source.first.inner_text().startswith("Сбербанк")

    with page.expect_download() as info:
        page.click("#debt-receipt")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")


def test_file_a_request_with_a_photo_and_see_its_status(open_page, tmp_path):
    # A real 1×1 PNG (signature, IHDR, IDAT, IEND), so the server's image check sees a PNG.
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d4944415478da63f8cfc0f01f0005000201a2dd2f8d0000000049454e44ae426082"
    )
    photo = tmp_path / "leak.png"
    photo.write_bytes(png)
    page = open_page()
    log_in(page, next_path="/cabinet/requests")
    page.select_option("#request-category", "plumbing")
    page.fill("#request-text", "Течёт стояк в ванной, квартира 1")
    page.set_input_files("#request-photo", str(photo))
    page.click("#request-form button[type=submit]")
    item = page.locator("#requests-list li", has_text="Течёт стояк")
    item.wait_for()
    assert item.get_attribute("data-status") == "new"
    assert "Новая" in item.inner_text()
    assert "Сантехника" in item.inner_text()
    screenshot(page, "12-requests")


def test_house_charts_and_tariff_advice_pages(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/house?year=2026")
    electricity = page.locator("#house-charts section[data-service=electricity]")
    electricity.wait_for()
    assert page.locator("#page-status").is_hidden(), page.inner_text("#page-status")
    per_m2 = electricity.locator(".chart[data-metric=per_m2] svg g.bar")
    per_person = electricity.locator(".chart[data-metric=per_person] svg g.bar")
    assert per_m2.count() == 1 and per_person.count() == 1, "only January 2026 has house data"
    # house meter E-HOUSE: 1000 kWh in January; S_об = 150 m²; residents 1 + 3 + 2 = 6
    assert float(per_m2.get_attribute("data-value")) == pytest.approx(1000 / 150, abs=1e-3)
    assert float(per_person.get_attribute("data-value")) == pytest.approx(1000 / 6, abs=1e-2)
    assert f"1{NBSP}000{NBSP}кВт·ч" in electricity.locator(".house-summary").inner_text()
    screenshot(page, "13-house")

    page.goto("/cabinet/advice")
    wait_ready(page)
    assert page.locator("#page-status").is_hidden(), page.inner_text("#page-status")
    page.locator("#advice-table").wait_for()
    # January's 372 kWh: single 372 × 5.00 = 1860.00 ₽; two-zone 248 × 6.00 + 124 × 3.00 = 1860.00 ₽ — a tie,
    # so the resident's own two-zone tariff is the advice (stay), the tie is said, both rows highlighted.
    rows = {r.get_attribute("data-scheme"): r for r in page.locator("#advice-table tbody tr").all()}
    assert set(rows) == {"single_rate", "two_zone"}
    for row in rows.values():
        assert f"1{NBSP}860,00{NBSP}₽" in row.inner_text()
        assert "cheapest" in (row.get_attribute("class") or "")
    assert "ваш тариф" in rows["two_zone"].inner_text()
    assert page.inner_text("#advice-verdict").startswith(
        "Ваш текущий тариф (двухзонный) — среди самых выгодных: одноставочный обошёлся бы столько же"
    )
    screenshot(page, "14-advice")


def test_phone_viewport(open_page):
    page = open_page(PHONE, phone=True)
    log_in(page, next_path="/cabinet/consumption")
    page.goto(consumption_url())
    wait_chart(page)
    assert bar_count(page) == 24
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone screen"
    chart_box = page.locator("#chart svg").bounding_box()
    assert chart_box is not None and chart_box["width"] <= PHONE["width"]
    screenshot(page, "20-phone-consumption")
    page.locator("#chart svg g.bar[data-index='8']").tap()
    assert re.search(r"08:00–09:00", page.inner_text("#chart-info"))
    for path, name in (
        ("/cabinet/", "21-phone-overview"),
        ("/cabinet/readings", "22-phone-readings"),
        ("/cabinet/receipts", "23-phone-receipts"),
        ("/cabinet/requests", "24-phone-requests"),
    ):
        page.goto(path)
        wait_ready(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a phone"
        screenshot(page, name)


def _ru_money(d: Decimal) -> str:
    """The expected Russian rendering: half-up to kopecks, NBSP thousands, comma, minus sign, ₽."""
    q = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, frac = f"{abs(q):f}".split(".")
    return ("−" if q < 0 else "") + f"{int(whole):,}".replace(",", NBSP) + f",{frac}{NBSP}₽"


_amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module")
def module_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/cabinet/login")
    yield page
    context.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(_amounts, min_size=1, max_size=40))
def test_browser_money_arithmetic_is_exact(module_page, amounts: list[Decimal]):
    """static/decimal.js sums and formats the API's decimal strings exactly like Python's Decimal."""
    texts = [f"{a:f}" for a in amounts]
    got = module_page.evaluate(
        """async (texts) => {
            const d = await import('/cabinet/static/decimal.js');
            return { sum: d.addDecimals(texts), shown: texts.map(d.formatRub) };
        }""",
        texts,
    )
    assert Decimal(got["sum"]) == sum(amounts, Decimal(0))
    assert got["shown"] == [_ru_money(a) for a in amounts]


def test_period_arithmetic_of_the_consumption_page(module_page):
    """static/periods.js: ranges, moving back and forward, titles and slot alignment, in the browser."""
    got = module_page.evaluate(
        """async () => {
            const p = await import('/cabinet/static/periods.js');
            const range = (period, day) => {
                const r = p.periodRange(period, day);
                const slots = p.expectedSlots(period, r).length;
                return [p.iso(r.start), p.iso(r.end), p.periodTitle(period, r), slots];
            };
            const leapDay = [{start: '2024-02-29T00:00:00+03:00', value: '1', quality: 'measured'}];
            const dstDay = Array.from({length: 25}, (_, i) => ({start: `2026-10-25T${i}`, value: '1'}));
            return {
                day: range('day', '2026-01-15'),
                week: range('week', '2026-01-01'),
                month: range('month', '2024-02-10'),
                year: range('year', '2026-06-30'),
                shifts: [
                    p.shiftAnchor('day', '2026-03-01', -1), p.shiftAnchor('week', '2026-01-01', 1),
                    p.shiftAnchor('month', '2026-01-31', 1), p.shiftAnchor('year', '2026-06-30', -1),
                ],
                monthSlots: p.alignPoints('month', p.periodRange('month', '2024-02-01'), leapDay)
                    .map((x) => x.quality),
                dstKept: p.alignPoints('day', p.periodRange('day', '2026-10-25'), dstDay).length,
                hourTitle: p.slotTitle('day', '2026-01-15T23:00:00+03:00'),
            };
        }"""
    )
    assert got["day"] == ["2026-01-15", "2026-01-16", "15 января 2026", 24]
    # 1 January 2026 is a Thursday: its week runs Monday 29 December 2025 to Sunday 4 January 2026
    assert got["week"] == ["2025-12-29", "2026-01-05", "29 декабря 2025 – 4 января 2026", 7]
    assert got["month"] == ["2024-02-01", "2024-03-01", "Февраль 2024", 29]
    assert got["year"] == ["2026-01-01", "2027-01-01", "2026 год", 12]
    assert got["shifts"] == ["2026-02-28", "2026-01-08", "2026-02-01", "2025-01-01"]
    assert got["monthSlots"] == ["missing"] * 28 + ["measured"], "absent days become gaps, 29 Feb is kept"
    assert got["dstKept"] == 25, "a 25-hour day that does not fit 24 slots keeps the API's own points"
    assert got["hourTitle"] == "15 января 2026, 23:00–00:00"

"""The cabinet's account pages in a real headless Chromium (issue 17): how the amount to pay came about
and paying it, whether receipts are paid, the like-for-like comparison with last year, changing and
recovering the password (through a real local SMTP server, aiosmtpd) and readable error messages.

Known data (tests/e2e/conftest.py, tests/api/world.py): alice / LS-1 with January 2026 charged and
1 000.00 ₽ paid on 2026-02-05 (after January), so January's receipt is partly paid; meter E-1 has
0.5 kWh every hour of January 2026 and 0.4 kWh every hour of 2025-01-15 only.
Screenshots go to tests/e2e/artifacts (or $METERHUB_TEST_ARTIFACTS).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.e2e.conftest import DEMO_ACCOUNT, DEMO_METER, app_env, log_in, screenshot, wait_ready
from tests.e2e.harness import LiveServer, artifacts_dir, browser_missing_reason, run_app

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

_NO_BROWSER = browser_missing_reason()
pytestmark = [pytest.mark.db, pytest.mark.skipif(_NO_BROWSER is not None, reason=_NO_BROWSER or "")]

NBSP = "\u00a0"
PAY_URL = "https://pay.example/uk?ls={account_no}&sum={amount}"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_inbox() -> Iterator[tuple[int, Inbox]]:
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = controller_mod.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture(scope="module")
def live_server(cabinet_world, db_url: str, smtp_inbox, tmp_path_factory) -> Iterator[LiveServer]:
    """The app with e-mail, a payment page and the management company's contacts configured."""
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    env = app_env(
        db_url,
        tmp_path_factory.mktemp("meterhub-e2e-account"),
        smtp_host="127.0.0.1",
        smtp_port=str(smtp_inbox[0]),
        public_url="https://cabinet.example",
        payment_url=PAY_URL,
        company_name="ООО «УК Ленинская»",
        company_phone="+7 3812 00-00-00",
        emergency_phone="+7 3812 11-11-11",
    )
    with run_app(env, artifacts_dir() / "server-account.log") as server:
        yield server


def rub(text: str) -> Decimal:
    """«1 000,00 ₽» / «− 1 000,00 ₽» → Decimal."""
    cleaned = text.replace("₽", "").replace(NBSP, "").replace(" ", "").replace("−", "-").replace(",", ".")
    return Decimal(cleaned)


def fmt_rub(amount: Decimal) -> str:
    """Decimal("3045") → «3 045,00 ₽» with no-break spaces, written out independently of decimal.js."""
    whole, frac = f"{amount:.2f}".split(".")
    return f"{int(whole):,}".replace(",", NBSP) + f",{frac}{NBSP}₽"


def test_the_amount_to_pay_is_explained_and_can_be_paid(open_page):
    page = open_page()
    log_in(page)
    page.wait_for_selector("#breakdown-card:not([hidden])")
    parts = {
        key: rub(page.inner_text(f"#balance-breakdown dd[data-part={key}]"))
        for key in ("opening", "charged", "paid", "total")
    }
    optional = [
        rub(page.inner_text(f"#balance-breakdown dd[data-part={key}]"))
        for key in ("recalculated", "penalties")
        if page.locator(f"#balance-breakdown dd[data-part={key}]").count()
    ]
    # the card adds up: opening + charged (+ recalculations + penalties) − paid = due
    paid = abs(parts["paid"])
    assert parts["opening"] + parts["charged"] + sum(optional) - paid == parts["total"]
    assert parts["total"] == rub(page.inner_text("#balance"))
    assert "за январь 2026" in page.inner_text("#breakdown-card")

    page.wait_for_selector("#pay-card:not([hidden])")
    qr = page.locator("#pay-qr")
    expect(qr).to_have_attribute("src", re.compile(r"/api/v1/accounts/LS-1/payment/qr\.svg\?period=2026-01"))
    page.wait_for_function("document.getElementById('pay-qr').naturalWidth > 100")
    amount = rub(page.inner_text("#pay-amount"))
    assert amount > 0
    link = page.locator("#pay-link")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"https://pay.example/uk?ls={DEMO_ACCOUNT}&sum={amount:.2f}"
    assert "оплатить до" in page.inner_text("#pay-due")
    # world.py: 1 000.00 paid on 2026-02-05, after January's receipt
    left = fmt_rub(amount - Decimal("1000.00"))
    expect(page.locator("#pay-paid")).to_have_text(
        f"Уже оплачено 1{NBSP}000,00{NBSP}₽ — осталось {left}. Сумму можно изменить в приложении банка."
    )
    screenshot(page, "20-overview-debt-and-payment")


def test_receipts_say_whether_they_are_paid(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/receipts")
    row = page.locator("#receipts-table tr[data-period='2026-01']")
    row.wait_for()
    state = row.locator("td.payment-state")
    assert state.get_attribute("data-payment-state") == "partly_paid"
    assert "оплачена частично" in state.inner_text()
    assert f"оплачено 1{NBSP}000,00{NBSP}₽" in state.inner_text()  # world.py: 1 000.00 paid on 2026-02-05
    screenshot(page, "21-receipts-payment-state")


def test_comparison_with_last_year_is_like_for_like(open_page):
    page = open_page()
    log_in(page, next_path="/cabinet/consumption")
    page.goto(
        f"/cabinet/consumption?account={DEMO_ACCOUNT}&meter={DEMO_METER}&period=month&date=2026-01-15"
        "&unit=volume&compare=1"
    )
    page.wait_for_selector("#chart[data-loading=false]")
    box = page.locator("#previous-total")
    # January 2026 has 31 days of data, January 2025 only the 15th: one day is compared, 12 kWh with 9.6
    expect(box).to_have_attribute("data-compared", "1")
    assert box.get_attribute("data-slots") == "31"
    assert box.inner_text() == (
        f"Сравнение только за дни с данными в обоих годах (1 из 31): сейчас 12{NBSP}кВт·ч, "
        f"год назад: 9,6{NBSP}кВт·ч (+25 %)"
    )
    assert "одинаковые периоды" in page.inner_text("#legend")
    assert page.locator("#chart svg text.axis-unit").text_content() == "кВт·ч"
    screenshot(page, "22-consumption-like-for-like")


def test_changing_the_password_in_the_profile(open_page):
    page = open_page()
    log_in(page, username="dave")
    page.goto("/cabinet/profile")
    wait_ready(page)
    form = page.locator("#password-form")
    error = page.locator("#password-error")

    def submit(current: str, new: str, again: str | None = None) -> None:
        form.locator("#current-password").fill(current)
        form.locator("#new-password").fill(new)
        form.locator("#new-password-2").fill(new if again is None else again)
        form.locator("button[type=submit]").click()

    submit("not-my-password", "Клён-у-дома-21")
    expect(error).to_be_visible()
    assert "Текущий пароль введён неверно" in error.inner_text()
    from tests.api.world import PASSWORD

    submit(PASSWORD, "Клён-у-дома-21", "Клён-у-дома-22")
    expect(error).to_have_text("Новые пароли не совпадают.")
    submit(PASSWORD, "password")
    expect(error).to_contain_text("распространённых")
    screenshot(page, "23-profile-password-refused")
    submit(PASSWORD, "Клён-у-дома-21")
    expect(page.locator("#password-done")).to_be_visible()
    current = page.locator("#sessions-table tr[data-current=true]")
    expect(current).to_have_count(1)
    assert "(этот)" in current.inner_text()
    expect(page.locator("#notification-list")).to_contain_text("Пароль изменён")
    screenshot(page, "24-profile-password-changed")

    page.click("#logout")
    page.wait_for_url("**/cabinet/login")
    page.fill("#username", "dave")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("Неверный логин или пароль")
    log_in(page, username="dave", password="Клён-у-дома-21")
    assert "/cabinet/" in page.url


def follow_confirmation_link(page, letters: list[str], address: str) -> None:
    """Open the confirmation link of the letter to ``address`` and press «Подтвердить адрес»."""
    from email import message_from_string, policy

    for raw in letters:
        message = message_from_string(raw, policy=policy.default)
        if message["To"] == address and str(message["Subject"]) == "Подтверждение адреса электронной почты":
            link = re.search(
                r"https://cabinet\.example(/cabinet/confirm-email\?token=[A-Za-z0-9_-]{40,})",
                message.get_body().get_content(),
            )
            break
    else:
        raise AssertionError(f"no confirmation letter to {address}")
    page.goto(link.group(1))
    wait_ready(page)
    page.click("#confirm-form button[type=submit]")
    expect(page.locator("#confirm-done")).to_have_text(f"Адрес {address} подтверждён.")
    assert "token=" not in page.url  # spent: not kept in the address bar


def test_recovering_the_password_by_an_e_mailed_link(open_page, smtp_inbox):
    _, inbox = smtp_inbox
    page = open_page()
    log_in(page, username="bob")
    page.goto("/cabinet/profile")
    wait_ready(page)
    before = len(inbox.messages)
    page.fill("#email", "bob@example.ru")
    page.click("#email-form button[type=submit]")
    expect(page.locator("#email-done")).to_contain_text("отправили письмо со ссылкой для подтверждения")
    expect(page.locator("#email-state")).to_contain_text("Адрес не подтверждён")
    expect(page.locator("#email-resend")).to_be_visible()
    screenshot(page, "24-profile-email-not-confirmed")
    follow_confirmation_link(page, inbox.messages[before:], "bob@example.ru")
    page.goto("/cabinet/profile")
    wait_ready(page)
    expect(page.locator("#email-state")).to_have_text("Адрес подтверждён.")
    expect(page.locator("#email-resend")).to_be_hidden()
    page.click("#logout")
    page.wait_for_url("**/cabinet/login")

    expect(page.locator("#contacts")).to_contain_text("+7 3812 11-11-11")  # the emergency service
    screenshot(page, "25-login-contacts-and-recovery-link")
    page.click("#forgot-link")
    page.wait_for_url("**/cabinet/recover")
    before = len(inbox.messages)
    page.fill("#login", "bob@example.ru")
    page.click("#request-form button[type=submit]")
    expect(page.locator("#request-result")).to_contain_text("отправили письмо")
    assert len(inbox.messages) == before + 1
    from email import message_from_string, policy

    body = message_from_string(inbox.messages[-1], policy=policy.default).get_body().get_content()
    token = re.search(r"/cabinet/recover\?token=([A-Za-z0-9_-]{40,})", body).group(1)

    page.goto(f"/cabinet/recover?token={token}")
    wait_ready(page)
    expect(page.locator("#reset-form")).to_be_visible()
    page.fill("#new-password", "Сирень-во-дворе-5")
    page.fill("#new-password-2", "Сирень-во-дворе-6")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-error")).to_have_text("Пароли не совпадают.")
    page.fill("#new-password", "12345678")
    page.fill("#new-password-2", "12345678")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-error")).to_contain_text("распространённых")
    page.fill("#new-password", "Сирень-во-дворе-5")
    page.fill("#new-password-2", "Сирень-во-дворе-5")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-done")).to_be_visible()
    assert "token" not in page.url
    screenshot(page, "26-recovery-done")

    page.goto(f"/cabinet/recover?token={token}")  # the link works once
    wait_ready(page)
    page.fill("#new-password", "Сирень-во-дворе-7")
    page.fill("#new-password-2", "Сирень-во-дворе-7")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-error")).to_contain_text("Ссылка недействительна")
    log_in(page, username="bob", password="Сирень-во-дворе-5")


def test_error_messages_are_readable(open_page, cabinet_world, live_server):
    import httpx

    # staff reject alice's request with a reason (API, as the accountant's script would)
    rid = cabinet_world.requests["alice"]
    r = httpx.patch(
        f"{live_server.url}/api/v1/requests/{rid}",
        json={"status": "rejected", "comment": "Кран в квартире — зона ответственности собственника"},
        headers=cabinet_world.auth("acc"),
    )
    assert r.status_code == 200, r.text
    page = open_page()
    log_in(page, next_path="/cabinet/readings")
    card = page.locator("section.meter-card[data-meter='W-1']")
    card.wait_for()
    card.locator("input[data-key]").first.fill("3,5")
    card.locator("button[type=submit]").click()
    result = card.locator(".result")
    expect(result).to_have_attribute("data-outcome", "rejected")
    text = result.inner_text()
    assert "Шкала" not in text and re.search(r"меньше предыдущего \d[\d ]*,?\d*\u00a0куб\. м", text), text
    assert "Показание 3,5\u00a0куб. м меньше предыдущего" in text
    screenshot(page, "27-reading-refused-readable")

    # a rejected request shows its reason beside the status, not only inside «История»
    page.goto("/cabinet/requests")
    wait_ready(page)
    item = page.locator(f"li[data-request='{rid}']")
    expect(item).to_have_attribute("data-status", "rejected")
    expect(item.locator(".request-answer")).to_have_text(
        "Причина отказа: Кран в квартире — зона ответственности собственника"
    )
    screenshot(page, "28-request-rejected-reason")


def _letter_text(raw: str) -> tuple[str, str]:
    from email import message_from_string, policy

    message = message_from_string(raw, policy=policy.default)
    return str(message["Subject"]), message.get_body().get_content()


def test_staff_revoke_a_link_and_the_resident_is_told(open_page, cabinet_world, db_url, smtp_inbox):
    """A resident who wants security notices by e-mail links LS-2 with this month's receipt code; the
    accountant sees him on the account's page and revokes the link with a reason; the history says who and
    why; the sender (``meterhub notify send``'s function) e-mails him and his profile shows the notice."""
    from datetime import UTC, date, datetime

    import psycopg

    from meterhub.api.email_notices import send_due
    from meterhub.api.link_codes import account_link_code, recent_periods
    from meterhub.api.roles import Role
    from meterhub.api.users_store import create_user
    from meterhub.core.settings import Settings
    from tests.api.world import PASSWORD
    from tests.e2e.conftest import TEST_SECRET

    with psycopg.connect(db_url, autocommit=True) as conn:
        create_user(conn, "gleb", PASSWORD, Role.RESIDENT, full_name="Глебов Г. Г.")
    resident = open_page()
    log_in(resident, username="gleb", next_path="/cabinet/profile")
    before = len(smtp_inbox[1].messages)
    resident.fill("#email", "gleb@example.ru")
    resident.click("#email-form button[type=submit]")
    expect(resident.locator("#email-done")).to_be_visible()
    follow_confirmation_link(open_page(), smtp_inbox[1].messages[before:], "gleb@example.ru")
    kinds = resident.locator("#email-kinds input[name=kind]")
    expect(kinds).to_have_count(4)
    resident.check("#email-kinds input[value=security]")
    resident.click("#email-kinds-form button[type=submit]")
    expect(resident.locator("#email-kinds-done")).to_be_visible()
    expect(resident.locator("#email-kinds-note")).to_be_hidden()
    screenshot(resident, "30-profile-email-notifications")

    resident.goto("/cabinet/")
    wait_ready(resident)
    resident.fill("#link-account", "LS-2")
    resident.fill("#link-code", account_link_code("LS-2", TEST_SECRET, recent_periods(date.today(), 0)[0]))
    with resident.expect_navigation():
        resident.click("#link-form button[type=submit]")
    wait_ready(resident)

    staff = open_page()
    log_in(staff, username="acc", next_path="/cabinet/links/?account=LS-2")
    row = staff.locator("#links-table tr[data-username=gleb]")
    expect(row).to_contain_text("Глебов Г. Г.")
    expect(row).to_contain_text("по коду с квитанции")
    expect(staff.locator("#links-table tr[data-username=bob]")).to_contain_text("администратором")
    expect(staff.locator("#account-address")).to_contain_text("Петров")  # LS-2's owner (world.py)
    row.locator("button.revoke").click()
    expect(staff.locator("#revoke-question")).to_contain_text("Глебов Г. Г. (логин gleb)")
    staff.click("#revoke-confirm")  # no reason: refused in the page
    expect(staff.locator("#revoke-error")).to_have_text("Укажите причину.")
    staff.fill("#revoke-reason", "собственник не знает этого пользователя")
    staff.click("#revoke-confirm")
    expect(staff.locator("#page-status")).to_contain_text("Пользователь gleb отключён от лицевого счёта LS-2")
    expect(staff.locator("#links-table tr[data-username=gleb]")).to_have_count(0)
    unlinked = staff.locator("#history-table tr[data-action=unlinked]")
    expect(unlinked).to_contain_text("gleb")
    expect(unlinked).to_contain_text("acc (бухгалтер)")
    expect(unlinked.locator("td.reason")).to_have_text("собственник не знает этого пользователя")
    expect(staff.locator("#history-table tr[data-action=linked_by_code]")).to_contain_text("gleb")
    expect(staff.locator("#history-table tr[data-action=codes_revoked]")).to_have_count(1)
    screenshot(staff, "31-staff-link-revoked")

    # a resident may not use the page: the API refuses and the page says whose it is
    alice = open_page()
    log_in(alice, next_path="/cabinet/links/?account=LS-1")
    expect(alice.locator("#page-status")).to_have_text("Раздел доступен бухгалтерии и администратору.")
    expect(alice.locator("#account-card")).to_be_hidden()

    port, inbox = smtp_inbox
    before = len(inbox.messages)
    settings = Settings(
        database_url=db_url, smtp_host="127.0.0.1", smtp_port=port, public_url="https://cabinet.example"
    )
    result = send_due(
        lambda: psycopg.connect(db_url, autocommit=True), settings, now=lambda: datetime.now(UTC)
    )
    assert result.sent == 1, result
    subject, text = _letter_text(inbox.messages[before])
    assert subject == "Безопасность личного кабинета — лицевой счёт LS-2"
    assert "отключила вас от лицевого счёта LS-2. Причина: собственник не знает этого пользователя." in text

    resident.goto("/cabinet/profile")
    wait_ready(resident)
    expect(resident.locator("#notification-list li[data-kind=security]").first).to_contain_text(
        "Причина: собственник не знает этого пользователя"
    )
    screenshot(resident, "32-resident-told-of-revoked-link")

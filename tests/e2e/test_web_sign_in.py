"""The web app's sign-in, sessions and form tokens, through the real app: what a browser sees."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from adapters.smtp_channel import SmtpConfig
from adapters.smtp_sign_in_mailer import SmtpSignInMailer
from application.commands import CreateApiKey, CreateUser, RevokeApiKey, UpdateUser, UserPatch
from entrypoints.bootstrap import Service
from entrypoints.settings import ServeSettings
from entrypoints.web import cookies
from tests.e2e.web_helpers import browser, csrf_of, sign_in
from tests.fakes import FixedClock, admin, make_service, team_of
from tests.integration.peers import HOST, SmtpServer
from tests.stores import StoreUnderTest


@pytest.fixture
def web(service: Service, metrics: PrometheusMetrics, store: StoreUnderTest) -> Iterator[TestClient]:
    with browser(service, metrics, store) as client:
        yield client


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _key(service: Service) -> str:
    return team_of(service).issued.plain


def test_a_browser_at_the_root_is_sent_to_the_app_and_an_api_client_keeps_the_index(web: TestClient) -> None:
    answer = web.get(
        "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/"
    assert web.get("/", headers={"Accept": "application/json"}).json()["docs"] == "/docs"
    assert web.get("/", headers={"Accept": "*/*"}).json()["health"] == "/health"


def test_pages_need_a_session_and_come_back_to_the_page_asked_for(web: TestClient, service: Service) -> None:
    answer = web.get("/app/reminders?status=paused", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/sign-in?next=%2Fapp%2Freminders%3Fstatus%3Dpaused"
    page = web.get(answer.headers["location"])
    wanted = "/app/reminders?status=paused"
    assert f'value="{wanted}"' in page.text
    signed = web.post(
        "/app/sign-in",
        data={
            "api_key": _key(service),
            "csrf_token": csrf_of(page.text),
            "next": "/app/reminders?status=paused",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/app/reminders?status=paused&notice=signed-in"


def test_the_sign_in_page_is_strict_about_what_it_loads(web: TestClient) -> None:
    page = web.get("/app/sign-in")
    assert page.status_code == 200
    assert "<h1>Sign in</h1>" in page.text
    policy = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    seed = page.headers["set-cookie"].lower()
    assert cookies.CSRF_SEED in seed
    assert "httponly" in seed
    assert "samesite=lax" in seed
    assert "path=/app" in seed
    # No email form while no mail server is set up.
    assert "/app/sign-in/email" not in page.text


def test_signing_in_with_a_key_gives_an_http_only_lax_cookie_that_is_not_the_key(
    web: TestClient, service: Service
) -> None:
    page = web.get("/app/sign-in")
    answer = web.post(
        "/app/sign-in",
        data={"api_key": _key(service), "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/reminders?notice=signed-in"
    set_cookie = answer.headers["set-cookie"]
    lowered = set_cookie.lower()
    assert lowered.startswith(cookies.SESSION + "=")
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/app" in lowered
    assert "secure" not in lowered  # plain http here; https gets Secure
    token = web.cookies.get(cookies.SESSION)
    assert token
    assert _key(service) not in set_cookie
    # Signed in: the sign-in page sends the person on.
    assert web.get("/app/sign-in", follow_redirects=False).headers["location"] == "/app/reminders"


def test_a_wrong_key_is_refused_in_words_and_not_shown_back(web: TestClient, service: Service) -> None:
    page = web.get("/app/sign-in")
    wrong = "rk_notakey_" + "x" * 30
    answer = web.post(
        "/app/sign-in", data={"api_key": wrong, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 401
    assert "That key was not accepted" in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert wrong not in answer.text
    assert cookies.SESSION not in answer.headers.get("set-cookie", "")


def test_next_only_ever_leads_inside_the_app(web: TestClient, service: Service) -> None:
    for outside in ("https://evil.example/", "//evil.example/app", "/app//evil.example", "/users/"):
        web.cookies.clear()
        page = web.get("/app/sign-in")
        answer = web.post(
            "/app/sign-in",
            data={"api_key": _key(service), "csrf_token": csrf_of(page.text), "next": outside},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/app/reminders?notice=signed-in", outside


def test_signing_out_ends_the_session_even_for_a_copied_cookie(web: TestClient, service: Service) -> None:
    sign_in(web, _key(service))
    copied = web.cookies.get(cookies.SESSION)
    assert web.get("/app/sign-in", follow_redirects=False).status_code == 303
    page = web.get("/app/sign-in", follow_redirects=True)
    answer = web.post("/app/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/sign-in?notice=signed-out"
    assert web.cookies.get(cookies.SESSION) is None
    web.cookies.set(cookies.SESSION, copied or "", path="/app")
    replayed = web.get("/app/reminders", follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/app/sign-in?next=%2Fapp%2Freminders&notice=session-ended"
    assert "Your session has ended" in web.get(replayed.headers["location"]).text


def test_a_deactivated_persons_session_stops_working(web: TestClient, service: Service) -> None:
    member = service.bus.handle(CreateUser(actor=admin(service), name="Member", email="member@example.com"))
    issued = service.bus.handle(CreateApiKey(actor=admin(service), user_id=member.id, name="web"))
    sign_in(web, issued.plain)
    assert web.get("/app/sign-in", follow_redirects=False).headers["location"] == "/app/reminders"
    service.bus.handle(UpdateUser(actor=admin(service), user_id=member.id, changes=UserPatch(active=False)))
    answer = web.get("/app/reminders", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/sign-in")


def test_a_session_ends_after_a_day_unused(web: TestClient, service: Service, clock: FixedClock) -> None:
    sign_in(web, _key(service))
    clock.advance(hours=23)
    assert web.get("/app/sign-in", follow_redirects=False).headers["location"] == "/app/reminders"
    clock.advance(hours=23)  # seen an hour... ago: still fine
    assert web.get("/app/sign-in", follow_redirects=False).headers["location"] == "/app/reminders"
    clock.advance(hours=25)
    assert web.get("/app/reminders", follow_redirects=False).headers["location"].startswith("/app/sign-in")


def test_a_form_without_its_token_or_from_another_site_changes_nothing(
    web: TestClient, service: Service
) -> None:
    no_token = web.post("/app/sign-in", data={"api_key": _key(service)}, follow_redirects=False)
    assert no_token.status_code == 403
    assert "<h1>Not allowed</h1>" in no_token.text
    assert web.cookies.get(cookies.SESSION) is None
    page = web.get("/app/sign-in")
    forged = web.post(
        "/app/sign-in",
        data={"api_key": _key(service), "csrf_token": csrf_of(page.text)},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert web.cookies.get(cookies.SESSION) is None
    # A token made for a signed-out browser does not serve once signed in, nor the other way round.
    sign_in(web, _key(service))
    stale = web.post("/app/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert stale.status_code == 403
    assert web.get("/app/sign-in", follow_redirects=False).status_code == 303  # still signed in


def test_the_api_does_not_take_the_session_cookie(web: TestClient, service: Service) -> None:
    sign_in(web, _key(service))
    token = web.cookies.get(cookies.SESSION)
    answer = web.get("/users/", headers={"Cookie": f"{cookies.SESSION}={token}"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"


def test_unknown_app_addresses_are_a_not_found_page(web: TestClient, service: Service) -> None:
    sign_in(web, _key(service))
    for path in ("/app/nothing-here", "/app/reminders/" + "x" * 80, "/app/static/secrets.txt"):
        answer = web.get(path)
        assert answer.status_code == 404, path
        assert "<h1>Not found</h1>" in answer.text
        assert answer.headers["content-type"].startswith("text/html")


def test_the_static_files_are_served_by_the_app(web: TestClient) -> None:
    css = web.get("/app/static/app.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    js = web.get("/app/static/app.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]


def _attempts(web: TestClient, keys: list[str]) -> list[int]:
    statuses = []
    for key in keys:
        page = web.get("/app/sign-in")
        answer = web.post(
            "/app/sign-in", data={"api_key": key, "csrf_token": csrf_of(page.text)}, follow_redirects=False
        )
        statuses.append(answer.status_code)
    return statuses


def test_an_address_is_limited_by_the_write_limit(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest
) -> None:
    settings = ServeSettings(scheduler_enabled=False, write_rate_limit="3/minute")
    with browser(service, metrics, store, settings) as web:
        keys = [f"rk_{number:012x}_wrong" for number in range(4)]
        statuses = _attempts(web, keys)
        assert statuses == [401, 401, 401, 429]
        page = web.get("/app/sign-in")
        refused = web.post(
            "/app/sign-in",
            data={"api_key": keys[0], "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert "<h1>Too many requests</h1>" in refused.text
        assert int(refused.headers["retry-after"]) >= 1


# Signing in by email, through the real SMTP mailer and a real SMTP server.


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailing(
    clock: FixedClock, metrics: PrometheusMetrics, store: StoreUnderTest, smtp: SmtpServer
) -> Iterator[tuple[Service, TestClient]]:
    mailer = SmtpSignInMailer(
        SmtpConfig(host=HOST, port=smtp.port), sender="reminders@example.org", timeout=5
    )
    service = make_service(clock=clock, metrics=metrics, uow_factory=store.uow_factory, sign_in_mailer=mailer)
    with browser(service, metrics, store) as client:
        yield service, client


def _ask_for_link(client: TestClient, email: str) -> None:
    page = client.get("/app/sign-in")
    assert "Email me a sign-in link" in page.text
    answer = client.post(
        "/app/sign-in/email", data={"email": email, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/sign-in?notice=link-sent"


def _link_in(smtp: SmtpServer) -> str:
    [mail] = smtp.handler.mails
    found = re.search(r"http://127\.0\.0\.1:8000(/app/sign-in/link/[A-Za-z0-9_-]+)", mail.part("plain"))
    assert found is not None
    return found.group(1)


def test_a_link_by_email_signs_in_once(
    mailing: tuple[Service, TestClient], smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    service, web = mailing
    caplog.set_level(logging.INFO)
    _ask_for_link(web, team_of(service).admin.email.upper())
    path = _link_in(smtp)
    opened = web.get(path)
    assert opened.status_code == 200
    assert "<h1>Sign in to Team Reminders</h1>" in opened.text
    assert opened.headers["referrer-policy"] == "same-origin"
    assert path.rsplit("/", 1)[1] not in opened.text  # the page posts back to its own address
    assert web.cookies.get(cookies.SESSION) is None  # opening it signed nobody in
    used = web.post(path, data={"csrf_token": csrf_of(opened.text)}, follow_redirects=False)
    assert used.status_code == 303
    assert web.cookies.get(cookies.SESSION)
    assert web.get("/app/sign-in", follow_redirects=False).headers["location"] == "/app/reminders"
    web.cookies.clear()
    again = web.get(path)
    refused = web.post(path, data={"csrf_token": csrf_of(again.text)}, follow_redirects=False)
    assert refused.status_code == 410
    assert "This link has been used" in refused.text
    assert web.cookies.get(cookies.SESSION) is None
    # The service's own log lines (the access log among them) mask the link's token.
    token = path.rsplit("/", 1)[1]
    ours = [record for record in caplog.records if record.name.startswith("reminders")]
    assert ours
    assert all(token not in str(vars(record)) for record in ours)


def test_a_link_expires_after_15_minutes(
    mailing: tuple[Service, TestClient], smtp: SmtpServer, clock: FixedClock
) -> None:
    service, web = mailing
    _ask_for_link(web, team_of(service).admin.email)
    path = _link_in(smtp)
    clock.advance(minutes=16)
    page = web.get(path)
    refused = web.post(path, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert refused.status_code == 410
    assert "This link has expired" in refused.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    mailing: tuple[Service, TestClient], smtp: SmtpServer
) -> None:
    _, web = mailing
    _ask_for_link(web, "nobody@example.com")
    assert smtp.handler.mails == []
    page = web.get("/app/sign-in/link/" + "A" * 43)
    refused = web.post("/app/sign-in/link/" + "A" * 43, data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 400
    assert "This link is not valid" in refused.text


# Revoking the key a session began with.


def test_revoking_the_key_a_browser_signed_in_with_signs_it_out(web: TestClient, service: Service) -> None:
    member = service.bus.handle(CreateUser(actor=admin(service), name="Member", email="member@example.com"))
    issued = service.bus.handle(CreateApiKey(actor=admin(service), user_id=member.id, name="leaked"))
    sign_in(web, issued.plain)
    assert web.get("/app/reminders", follow_redirects=False).status_code == 200
    service.bus.handle(RevokeApiKey(actor=admin(service), key_id=issued.key.id))
    answer = web.get("/app/reminders", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/sign-in")


def test_a_malformed_address_is_a_message_beside_the_field(
    mailing: tuple[Service, TestClient], smtp: SmtpServer
) -> None:
    _, web = mailing
    for wrong in ("foo bar@example.com", "a@b@c", "x@-bad.com"):
        page = web.get("/app/sign-in")
        answer = web.post("/app/sign-in/email", data={"email": wrong, "csrf_token": csrf_of(page.text)})
        assert answer.status_code == 400, wrong
        assert 'id="email-problem"' in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    assert smtp.handler.mails == []


def test_the_cookies_are_secure_when_the_service_is_published_over_https(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest
) -> None:
    settings = ServeSettings(scheduler_enabled=False, public_url="https://reminders.example.com")
    with browser(service, metrics, store, settings) as web:
        page = web.get("/app/sign-in")
        assert "secure" in page.headers["set-cookie"].lower()
        answer = web.post(
            "/app/sign-in",
            data={"api_key": _key(service), "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert "secure" in answer.headers["set-cookie"].lower()


def test_links_to_one_mailbox_are_limited_by_the_send_limit(
    clock: FixedClock, metrics: PrometheusMetrics, store: StoreUnderTest, smtp: SmtpServer
) -> None:
    config = SmtpConfig(host=HOST, port=smtp.port)
    mailer = SmtpSignInMailer(config, sender="reminders@example.org", timeout=5)
    service = make_service(clock=clock, metrics=metrics, uow_factory=store.uow_factory, sign_in_mailer=mailer)
    settings = ServeSettings(scheduler_enabled=False, send_rate_limit="2/minute")
    with browser(service, metrics, store, settings) as web:
        statuses = []
        for _ in range(3):
            page = web.get("/app/sign-in")
            data = {"email": "someone@example.com", "csrf_token": csrf_of(page.text)}
            statuses.append(web.post("/app/sign-in/email", data=data, follow_redirects=False).status_code)
        assert statuses == [303, 303, 429]


def test_reactivating_a_person_does_not_bring_back_their_old_session(
    web: TestClient, service: Service
) -> None:
    member = service.bus.handle(CreateUser(actor=admin(service), name="Member", email="member@example.com"))
    issued = service.bus.handle(CreateApiKey(actor=admin(service), user_id=member.id, name="web"))
    sign_in(web, issued.plain)
    old = web.cookies.get(cookies.SESSION)
    assert web.get("/app/reminders", follow_redirects=False).status_code == 200
    for active in (False, True):
        service.bus.handle(
            UpdateUser(actor=admin(service), user_id=member.id, changes=UserPatch(active=active))
        )
    answer = web.get("/app/reminders", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/sign-in")
    # Signing in again works: only the session from before the deactivation is over.
    web.cookies.clear()
    sign_in(web, issued.plain)
    assert web.cookies.get(cookies.SESSION) != old
    assert web.get("/app/reminders", follow_redirects=False).status_code == 200


def test_a_form_the_framework_refuses_is_a_400_page_not_a_failure(web: TestClient, service: Service) -> None:
    sign_in(web, _key(service))
    page = web.get("/app/reminders/new")
    fields = [("csrf_token", csrf_of(page.text)), ("title", "Too many")]
    fields += [("recipient_ids", f"user{number}") for number in range(1000)]
    answer = web.post("/app/reminders/new", content=urlencode(fields), headers=_FORM, follow_redirects=False)
    assert answer.status_code == 400
    assert "<h1>That did not work</h1>" in answer.text
    assert "Too many fields" in answer.text


def test_a_person_at_their_write_limit_can_still_sign_out(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest
) -> None:
    settings = ServeSettings(scheduler_enabled=False, write_rate_limit="2/minute")
    with browser(service, metrics, store, settings) as web:
        sign_in(web, _key(service))
        page = web.get("/app/reminders/new")
        for _ in range(3):  # the third write is refused
            web.post("/app/reminders/new", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        page = web.get("/app/sign-in", follow_redirects=True)
        answer = web.post("/app/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert answer.status_code == 303
        assert web.cookies.get(cookies.SESSION) is None

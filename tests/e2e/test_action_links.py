"""The signed links in messages, through HTTP: opening one shows a page and changes nothing; its
button acts once; a tampered link is 403, a used or expired one 410, each a page, nothing changed;
and the token, a secret, shows up in no page and no log line."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from application.action_links import LINK_LIFETIME, Action, make_token
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.team import Team
from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import create_reminder, create_user
from tests.fakes import FixedClock, team_of

CSP_RULES = {"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def ada(client: TestClient) -> dict[str, Any]:
    return create_user(client, name="Ada", timezone="Europe/Berlin")


@pytest.fixture
def sent(client: TestClient, service: Service, ada: dict[str, Any]) -> Delivery:
    """A delivery of Ada's reminder, sent now through the recording channel."""
    reminder = create_reminder(client, ada["id"], title="Stand-up <b>&</b>", timezone="Europe/Berlin")
    response = client.post(f"/notifications/send/{reminder['id']}")
    assert response.status_code == 200, response.text
    return stored(service, response.json()["delivery_id"])


def stored(service: Service, delivery_id: str) -> Delivery:
    with service.uow_factory() as uow:
        delivery = uow.deliveries.get(delivery_id)
    assert delivery is not None
    return delivery


def follow_ups(service: Service, delivery: Delivery) -> list[Delivery]:
    with service.uow_factory() as uow:
        return uow.deliveries.follow_ups({delivery.id})


def team(service: Service) -> Team:
    with service.uow_factory() as uow:
        found = uow.teams.get(team_of(service).team.id)
    assert found is not None
    return found


def link(service: Service, delivery: Delivery, action: Action, *, made_ago: timedelta = timedelta()) -> str:
    return f"/links/{make_token(team(service), delivery.id, action, service.clock.now() - made_ago)}"


def assert_page(response: httpx2.Response, status: int, *phrases: str) -> str:
    """An HTML page of that status, locked down by its headers, saying each phrase."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert {rule.strip() for rule in response.headers["content-security-policy"].split(";")} >= CSP_RULES
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert "<script" not in page.lower()
    assert "Traceback" not in page
    for phrase in phrases:
        assert phrase in page, page
    return page


def assert_unchanged(service: Service, delivery: Delivery) -> None:
    now = stored(service, delivery.id)
    assert (now.acknowledged_at, now.acknowledged_by, now.version) == (None, None, delivery.version)
    assert follow_ups(service, delivery) == []


def test_opening_a_link_shows_what_its_button_does_and_changes_nothing(
    client: TestClient, service: Service, sent: Delivery
) -> None:
    url = link(service, sent, "ack")

    first = client.get(url)
    again = client.get(url)

    page = assert_page(
        first, 200, "Acknowledge", "Stand-up &lt;b&gt;&amp;&lt;/b&gt;", "Ada", '<form method="post">'
    )
    assert "<b>" not in page
    assert url.removeprefix("/links/") not in page  # the form posts back to the page's own address
    assert_page(again, 200, "Acknowledge")
    assert_unchanged(service, sent)


def test_a_snooze_link_offers_how_long(client: TestClient, service: Service, sent: Delivery) -> None:
    page = assert_page(
        client.get(link(service, sent, "snooze")), 200, "Snooze", '<select id="minutes" name="minutes">'
    )

    for minutes in (10, 30, 60, 240, 1440):
        assert f'<option value="{minutes}"' in page
    assert '<option value="10" selected>' in page
    assert_unchanged(service, sent)


def test_the_button_acknowledges_once(
    client: TestClient, service: Service, clock: FixedClock, sent: Delivery, ada: dict[str, Any]
) -> None:
    url = link(service, sent, "ack")

    done = client.post(url, headers=FORM)

    assert_page(done, 200, "Acknowledged", "Stand-up &lt;b&gt;")
    acknowledged = stored(service, sent.id)
    assert (acknowledged.acknowledged_at, acknowledged.acknowledged_by) == (clock.now(), ada["id"])
    clock.advance(minutes=1)
    assert_page(client.post(url, headers=FORM), 410, "used already", "Nothing was changed")
    assert_page(client.get(url), 410, "used already")
    assert stored(service, sent.id).acknowledged_at == acknowledged.acknowledged_at


def test_the_snooze_button_creates_a_snooze_for_the_chosen_time(
    client: TestClient, service: Service, clock: FixedClock, sent: Delivery
) -> None:
    url = link(service, sent, "snooze")

    done = client.post(url, content=b"minutes=30", headers=FORM)

    # 08:00 UTC and 30 minutes, in Ada's own time zone.
    assert_page(done, 200, "Snoozed until 2026-01-05 09:30 (Europe/Berlin)")
    [snooze] = follow_ups(service, sent)
    assert (snooze.kind, snooze.status) == (DeliveryKind.SNOOZE, DeliveryStatus.PENDING)
    assert snooze.scheduled_for == clock.now() + timedelta(minutes=30)
    assert_page(client.post(url, content=b"minutes=30", headers=FORM), 410, "used already")
    assert len(follow_ups(service, sent)) == 1


def test_a_snooze_without_a_choice_is_ten_minutes(
    client: TestClient, service: Service, clock: FixedClock, sent: Delivery
) -> None:
    assert_page(client.post(link(service, sent, "snooze")), 200, "Snoozed until 2026-01-05 09:10")

    [snooze] = follow_ups(service, sent)
    assert snooze.scheduled_for == clock.now() + timedelta(minutes=10)


@pytest.mark.parametrize("minutes", [b"minutes=0", b"minutes=1441", b"minutes=ten", b"minutes=10&minutes=30"])
def test_a_snooze_for_a_time_the_page_does_not_offer_is_refused(
    client: TestClient, service: Service, sent: Delivery, minutes: bytes
) -> None:
    url = link(service, sent, "snooze")

    assert_page(
        client.post(url, content=minutes, headers=FORM), 400, "1 to 1440 minutes", "Nothing was changed"
    )
    assert_unchanged(service, sent)
    assert_page(client.get(url), 200, "Snooze")  # the link still works


def test_a_tampered_link_is_403_and_changes_nothing(
    client: TestClient, service: Service, sent: Delivery
) -> None:
    url = link(service, sent, "ack")
    # A letter in the middle of the signature: the last one may only carry padding bits.
    where = len(url) - 10
    tampered = url[:where] + ("A" if url[where] != "A" else "B") + url[where + 1 :]

    for response in (client.get(tampered), client.post(tampered, headers=FORM)):
        assert_page(response, 403, "not valid", "Nothing was changed")
    for garbage in ("/links/not-a-token", "/links/" + "x" * 2000, "/links/e30.e30.e30"):
        assert_page(client.post(garbage, headers=FORM), 403, "not valid")
    assert_unchanged(service, sent)
    assert_page(client.post(url, headers=FORM), 200, "Acknowledged")  # the real one still works


def test_a_link_signed_by_another_team_is_403(client: TestClient, service: Service, sent: Delivery) -> None:
    other = Team.create(name="Others", now=service.clock.now())
    url = f"/links/{make_token(other, sent.id, 'ack', service.clock.now())}"

    assert_page(client.post(url, headers=FORM), 403, "not valid")
    assert_unchanged(service, sent)


def test_an_expired_link_is_410_and_changes_nothing(
    client: TestClient, service: Service, clock: FixedClock, sent: Delivery
) -> None:
    old = link(service, sent, "ack", made_ago=LINK_LIFETIME + timedelta(seconds=1))
    aging = link(service, sent, "snooze")
    clock.advance(days=7, seconds=1)

    for url in (old, aging):
        assert_page(client.get(url), 410, "expired", "Nothing was changed")
        assert_page(client.post(url, headers=FORM), 410, "expired")
    assert_unchanged(service, sent)


def test_a_link_still_works_on_its_last_day(
    client: TestClient, service: Service, clock: FixedClock, sent: Delivery
) -> None:
    url = link(service, sent, "ack")
    clock.advance(days=6, hours=23)

    assert_page(client.post(url, headers=FORM), 200, "Acknowledged")


def test_snoozing_a_delivery_not_sent_yet_is_409(
    client: TestClient, service: Service, sent: Delivery
) -> None:
    assert_page(client.post(link(service, sent, "snooze"), headers=FORM), 200, "Snoozed")
    [waiting] = follow_ups(service, sent)

    url = link(service, waiting, "snooze")

    assert_page(client.post(url, headers=FORM), 409, "cannot be snoozed yet", "Nothing was changed")
    assert follow_ups(service, waiting) == []
    assert_page(client.get(url), 200, "Snooze")  # refused, not used: it works once the snooze is sent


def test_a_link_for_someone_no_longer_active_is_410(
    client: TestClient, service: Service, sent: Delivery, ada: dict[str, Any]
) -> None:
    url = link(service, sent, "ack")
    response = client.patch(f"/users/{ada['id']}", json={"active": False})
    assert response.status_code == 200, response.text

    assert_page(client.get(url), 410, "no longer works")
    assert_page(client.post(url, headers=FORM), 410, "no longer works")
    assert stored(service, sent.id).acknowledged_at is None


def test_links_need_no_api_key(client: TestClient, service: Service, sent: Delivery) -> None:
    url = link(service, sent, "ack")
    stranger = {"Authorization": "Bearer not-a-key"}

    assert_page(client.get(url, headers=stranger), 200, "Acknowledge")
    assert_page(client.post(url, headers={**stranger, **FORM}), 200, "Acknowledged")


def test_a_link_answers_get_and_post_only(client: TestClient, service: Service, sent: Delivery) -> None:
    response = client.put(link(service, sent, "ack"))

    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert_unchanged(service, sent)


def test_links_stay_out_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith("/links")]


def test_no_log_line_carries_a_token(
    client: TestClient, service: Service, sent: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    urls = [link(service, sent, "ack"), link(service, sent, "snooze")]
    tokens = [url.removeprefix("/links/") for url in urls]
    tampered = urls[0][:-12] + "xyz" + urls[0][-9:]
    caplog.set_level(logging.DEBUG)

    for url in [*urls, tampered]:
        client.get(url)
        client.post(url, content=b"minutes=60", headers=FORM)
        client.post(url, headers=FORM)

    # The service's own records: the test's HTTP client (httpx2) logs the URLs it requests.
    records = [record for record in caplog.records if not record.name.startswith("httpx2")]
    seen = [record.getMessage() for record in records]
    seen += [str(value) for record in records for value in record.__dict__.values()]
    paths = [record.__dict__.get("path") for record in records if record.getMessage() == "request finished"]
    assert paths == ["/links/****"] * 9
    for secret in [*tokens, tampered.removeprefix("/links/")]:
        assert not [text for text in seen if secret in text]

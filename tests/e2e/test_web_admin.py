"""The admin's pages through the web app: the team's members, their API keys (shown once), the audit
trail and the status page; what the policy refuses to a member and hides from another team."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from application import views
from application.channels import PermanentChannelError
from application.commands import UpdateUser, UserPatch
from application.unit_of_work import StoreUnavailable
from domain.roles import Role
from entrypoints.bootstrap import Service
from tests.e2e.teams import Person, add_person, add_reminder, admin_of, call
from tests.e2e.web_helpers import browser, csrf_of, sign_in
from tests.fakes import FixedClock, RecordingChannel, new_team, team_of
from tests.stores import StoreUnderTest

_DESC = re.compile(r'<desc id="chart-desc">([^<]*)</desc>')


@pytest.fixture
def admin(service: Service) -> Person:
    return admin_of(team_of(service))


@pytest.fixture
def member(service: Service, admin: Person) -> Person:
    return add_person(service, admin, "Mia", "mia@example.com")


@pytest.fixture
def web(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest, admin: Person
) -> Iterator[TestClient]:
    """A browser signed in as the test team's admin."""
    with browser(service, metrics, store) as client:
        sign_in(client, admin.key)
        yield client


def post(client: TestClient, path: str, fields: dict[str, str], *, from_page: str) -> httpx2.Response:
    token = csrf_of(client.get(from_page).text)
    return client.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)


def names_of(service: Service, admin: Person) -> list[str]:
    return [
        user.name for user in views.list_users(service.uow_factory, admin.actor, limit=100, offset=0).items
    ]


def problem(html: str, field: str) -> str:
    found = re.search(rf'<p class="problem" id="{field}-problem">([^<]*)</p>', html)
    assert found is not None, f"no message beside {field}"
    return unescape(found.group(1))


def h1(html: str) -> str:
    found = re.search(r"<h1>([^<]*)</h1>", html)
    assert found is not None
    return unescape(found.group(1))


# The team


def test_an_admin_adds_a_member_in_a_zone_they_choose(
    web: TestClient, service: Service, admin: Person
) -> None:
    page = web.get("/app/team")
    assert page.status_code == 200
    assert h1(page.text) == "Team"
    assert "<caption>Members</caption>" in page.text
    assert '<option value="UTC" selected>' in page.text  # the admin's own zone, by default

    added = post(
        web,
        "/app/team/members",
        {"name": "Ada Lovelace", "email": "ada@example.com", "role": "member", "timezone": "Europe/Berlin"},
        from_page="/app/team",
    )

    assert added.status_code == 303
    assert added.headers["location"] == "/app/team?notice=member-added"
    shown = web.get(added.headers["location"]).text
    assert "Member added." in shown
    for text in ("Ada Lovelace", "ada@example.com", "Europe/Berlin"):
        assert text in shown
    users = views.list_users(service.uow_factory, admin.actor, limit=100, offset=0).items
    ada = next(user for user in users if user.name == "Ada Lovelace")
    assert (ada.email, ada.role, ada.timezone) == ("ada@example.com", Role.MEMBER, "Europe/Berlin")
    assert ada.active


def test_an_invalid_member_is_refused_beside_its_fields_and_nothing_is_created(
    web: TestClient, service: Service, admin: Person
) -> None:
    before = names_of(service, admin)

    refused = post(
        web,
        "/app/team/members",
        {"name": "", "email": "not an address", "role": "owner", "timezone": "Mars/Olympus"},
        from_page="/app/team",
    )

    assert refused.status_code == 400
    for field in ("name", "email", "role"):
        assert problem(refused.text, field)
        assert f'aria-describedby="{field}-problem"' in refused.text
    assert 'role="alert"' in refused.text
    assert 'value="not an address"' in refused.text  # what was typed stays
    assert names_of(service, admin) == before


def test_an_unknown_time_zone_is_refused_beside_its_field(
    web: TestClient, service: Service, admin: Person
) -> None:
    before = names_of(service, admin)

    refused = post(
        web,
        "/app/team/members",
        {"name": "Ada", "email": "ada@example.com", "role": "member", "timezone": "Mars/Olympus"},
        from_page="/app/team",
    )

    assert refused.status_code == 400
    assert "Mars/Olympus" in problem(refused.text, "timezone")
    assert names_of(service, admin) == before


def test_an_email_already_in_the_team_is_refused_beside_the_email(
    web: TestClient, service: Service, admin: Person, member: Person
) -> None:
    before = names_of(service, admin)

    refused = post(
        web,
        "/app/team/members",
        {"name": "Another Mia", "email": "MIA@example.com", "role": "member", "timezone": "UTC"},
        from_page="/app/team",
    )

    assert refused.status_code == 409
    assert "already exists" in problem(refused.text, "email")
    assert names_of(service, admin) == before


def test_an_admin_changes_a_members_role(
    web: TestClient, service: Service, admin: Person, member: Person
) -> None:
    changed = post(web, f"/app/team/members/{member.id}/role", {"role": "admin"}, from_page="/app/team")

    assert changed.status_code == 303
    assert changed.headers["location"] == "/app/team?notice=member-saved"
    assert views.get_user(service.uow_factory, admin.actor, member.id).role is Role.ADMIN
    assert "Member changed." in web.get(changed.headers["location"]).text


def test_an_admin_deactivates_and_reactivates_a_member(
    web: TestClient, service: Service, admin: Person, member: Person
) -> None:
    deactivated = post(
        web, f"/app/team/members/{member.id}/active", {"active": "false"}, from_page="/app/team"
    )

    assert deactivated.status_code == 303
    assert views.get_user(service.uow_factory, admin.actor, member.id).active is False
    page = web.get("/app/team").text
    assert 'Reactivate<span class="visually-hidden"> Mia</span>' in page

    reactivated = post(
        web, f"/app/team/members/{member.id}/active", {"active": "true"}, from_page="/app/team"
    )

    assert reactivated.status_code == 303
    assert views.get_user(service.uow_factory, admin.actor, member.id).active is True
    assert 'Deactivate<span class="visually-hidden"> Mia</span>' in web.get("/app/team").text


def test_the_last_admin_cannot_be_demoted_or_deactivated_and_is_told_why(
    web: TestClient, service: Service, admin: Person
) -> None:
    for path, fields in ((f"/app/team/members/{admin.id}/role", {"role": "member"}),
                         (f"/app/team/members/{admin.id}/active", {"active": "false"})):  # fmt: skip
        refused = post(web, path, fields, from_page="/app/team")

        assert refused.status_code == 409
        assert h1(refused.text) == "Team"
        assert "at least one active admin" in refused.text
        assert 'role="alert"' in refused.text
    user = views.get_user(service.uow_factory, admin.actor, admin.id)
    assert (user.role, user.active) == (Role.ADMIN, True)


def test_an_admin_who_demotes_themselves_is_sent_to_their_reminders(
    web: TestClient, service: Service, admin: Person, member: Person
) -> None:
    service.bus.handle(UpdateUser(actor=admin.actor, user_id=member.id, changes=UserPatch(role=Role.ADMIN)))

    demoted = post(web, f"/app/team/members/{admin.id}/role", {"role": "member"}, from_page="/app/team")

    assert demoted.status_code == 303
    assert demoted.headers["location"] == "/app/reminders?notice=member-saved"
    assert web.get("/app/team").status_code == 403


def test_the_team_comes_a_page_at_a_time_also_beside_a_refused_form(
    web: TestClient, service: Service, admin: Person
) -> None:
    for number in range(55):
        add_person(service, admin, f"Person {number}", f"person{number}@example.com")

    first = web.get("/app/team").text
    refused = post(
        web, "/app/team/members", {"name": "", "email": "", "role": "member"}, from_page="/app/team"
    )

    assert "1\N{EN DASH}50 of 56" in first
    assert '<a href="/app/team?page=2" rel="next">' in first
    assert refused.status_code == 400
    assert '<a href="/app/team?page=2" rel="next">' in refused.text  # not the form's address
    second = web.get("/app/team?page=2").text
    assert "51\N{EN DASH}56 of 56" in second
    assert '<a href="/app/team" rel="prev">' in second
    assert "Person 54" in second
    assert "Person 54" not in first
    beyond = web.get("/app/team?page=9").text
    assert '<a href="/app/team">Go to the first page</a>' in beyond


# API keys


def test_a_new_key_is_shown_once_works_on_the_api_and_stops_when_revoked(
    web: TestClient, service: Service, admin: Person, member: Person
) -> None:
    keys_page = f"/app/team/members/{member.id}/keys"
    listed = web.get(keys_page)
    assert listed.status_code == 200
    assert h1(listed.text) == "API keys of Mia"
    assert "<caption>API keys</caption>" in listed.text

    created = post(web, keys_page, {"name": "build server"}, from_page=keys_page)

    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert h1(created.text) == "Key created"
    shown = re.search(r'<code id="new-key" class="secret">([^<]+)</code>', created.text)
    assert shown is not None
    key = unescape(shown.group(1))
    assert created.text.count(key) == 1
    assert "will not be shown again" in created.text
    assert f'href="{keys_page}"' in created.text
    again = web.get(keys_page).text
    assert key not in again
    assert "build server" in again
    assert call(web, "GET", f"/users/{member.id}", key=key).status_code == 200

    issued = views.list_keys_of(service.uow_factory, admin.actor, member.id, limit=100, offset=0).items
    key_id = next(found.id for found in issued if found.name == "build server")
    revoked = post(web, f"/app/keys/{key_id}/revoke", {"next": keys_page}, from_page=keys_page)

    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"{keys_page}?notice=key-revoked"
    assert key not in revoked.headers["location"]
    after = web.get(revoked.headers["location"]).text
    assert "Key revoked." in after
    assert '<span class="status status-revoked">Revoked</span>' in after
    assert call(web, "GET", f"/users/{member.id}", key=key).status_code == 401


def test_a_key_needs_a_name(web: TestClient, service: Service, admin: Person, member: Person) -> None:
    keys_page = f"/app/team/members/{member.id}/keys"

    refused = post(web, keys_page, {"name": "   "}, from_page=keys_page)

    assert refused.status_code == 400
    assert problem(refused.text, "name")
    assert 'id="new-key"' not in refused.text
    keys = views.list_keys_of(service.uow_factory, admin.actor, member.id, limit=100, offset=0).items
    assert len(keys) == 1  # only the one the member was given


def test_a_member_manages_their_own_keys_but_not_the_team(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest, admin: Person, member: Person
) -> None:
    other = new_team(service, "Other team", "owner@elsewhere.example")
    with browser(service, metrics, store) as web:
        sign_in(web, member.key)

        for path in ("/app/team", "/app/audit", "/app/status"):
            refused = web.get(path)
            assert refused.status_code == 403, path
            assert h1(refused.text) == "Not allowed"
        for path in (
            f"/app/team/members/{admin.id}/keys",
            f"/app/team/members/{other.admin.id}/keys",
            "/app/team/members/no-such-user/keys",
        ):
            missing = web.get(path)
            assert missing.status_code == 404, path
            assert h1(missing.text) == "Not found"
        own = f"/app/team/members/{member.id}/keys"
        assert web.get(own).status_code == 200
        assert post(web, own, {"name": "phone"}, from_page=own).status_code == 201
        changed = post(web, f"/app/team/members/{member.id}/role", {"role": "admin"}, from_page=own)
        assert changed.status_code == 403
    assert views.get_user(service.uow_factory, admin.actor, member.id).role is Role.MEMBER


def test_another_members_keys_read_as_not_found_and_stay_as_they_were(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest, admin: Person, member: Person
) -> None:
    own = f"/app/team/members/{member.id}/keys"
    theirs = f"/app/team/members/{admin.id}/keys"
    with browser(service, metrics, store) as web:
        sign_in(web, member.key)

        created = post(web, theirs, {"name": "backdoor"}, from_page=own)
        revoked = post(web, f"/app/keys/{admin.key_id}/revoke", {"next": own}, from_page=own)

    for answer in (created, revoked):
        assert answer.status_code == 404
        assert h1(answer.text) == "Not found"
        assert "backdoor" not in answer.text
    kept = views.list_keys_of(service.uow_factory, admin.actor, admin.id, limit=100, offset=0).items
    assert [(key.id, key.revoked) for key in kept] == [(admin.key_id, False)]


def test_a_key_is_not_created_when_its_owner_cannot_be_read(
    web: TestClient, service: Service, admin: Person, member: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a key exists its page must show it: a store failure comes before the key, not after."""
    keys_page = f"/app/team/members/{member.id}/keys"
    token = csrf_of(web.get(keys_page).text)

    def unavailable(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("the store is down")

    monkeypatch.setattr(views, "get_user", unavailable)
    failed = web.post(keys_page, data={"name": "build server", "csrf_token": token}, follow_redirects=False)

    assert failed.status_code == 503
    assert 'id="new-key"' not in failed.text
    keys = views.list_keys_of(service.uow_factory, admin.actor, member.id, limit=100, offset=0).items
    assert [key.name for key in keys] == ["laptop"]  # only the one the member was given


def test_another_teams_admin_sees_nothing_of_this_team(
    service: Service, metrics: PrometheusMetrics, store: StoreUnderTest, admin: Person, member: Person
) -> None:
    other = new_team(service, "Other team", "owner@elsewhere.example")
    with browser(service, metrics, store) as web:
        sign_in(web, other.issued.plain)

        team = web.get("/app/team").text
        audit = web.get("/app/audit").text
        status = web.get("/app/status").text
        keys = web.get(f"/app/team/members/{member.id}/keys")
        revoke = post(web, f"/app/keys/{member.key_id}/revoke", {}, from_page="/app/team")

    assert "Team Admin" in team  # their own admin
    for shown in (team, audit):
        for text in ("mia@example.com", "Mia", member.id, admin.id):
            assert text not in shown
    assert "In the last 24 hours, 0 deliveries were due" in status
    assert keys.status_code == 404
    assert revoke.status_code == 404
    kept = views.list_keys_of(service.uow_factory, admin.actor, member.id, limit=100, offset=0).items
    assert [key.revoked for key in kept] == [False]


# The audit trail


def test_the_audit_trail_names_who_acted_and_filters_by_action_actor_target_and_time(
    web: TestClient, service: Service, clock: FixedClock, admin: Person, member: Person
) -> None:
    # The admin reads times in Kathmandu, 5 h 45 min ahead of UTC: the filters' times are theirs.
    service.bus.handle(
        UpdateUser(actor=admin.actor, user_id=admin.id, changes=UserPatch(timezone="Asia/Kathmandu"))
    )
    clock.advance(hours=1)  # 09:00 UTC, 14:45 in Kathmandu
    post(web, f"/app/team/members/{member.id}/role", {"role": "admin"}, from_page="/app/team")

    everything = web.get("/app/audit")
    assert everything.status_code == 200
    assert h1(everything.text) == "Audit trail"
    assert "<caption>Audit trail</caption>" in everything.text
    assert "Team Admin" in everything.text  # the actor's name, not only an id
    assert "Mon 5 Jan 2026, 14:45 +0545" in everything.text
    assert '<span class="field-name">role</span>: member → admin' in everything.text
    assert '<details class="more-changes">' in everything.text  # a creation's many fields, folded

    def actions(query: dict[str, str]) -> list[str]:
        answer = web.get("/app/audit", params=query)
        assert answer.status_code == 200, answer.text
        return re.findall(r"<td data-label=\"Action\"><code class=\"action\">([^<]+)</code>", answer.text)

    assert actions({"action": "user.role_changed"}) == ["user.role_changed"]
    assert actions({"target_id": member.id}) == ["user.role_changed", "user.created"]
    assert all(found != "user.role_changed" for found in actions({"target_id": admin.id}))
    assert actions({"actor_id": admin.id, "since": "2026-01-05T14:45"}) == ["user.role_changed"]
    assert "user.role_changed" not in actions({"until": "2026-01-05T14:45"})
    assert actions({"since": "2026-01-05T14:46"}) == []


def test_audit_filters_that_cannot_be_read_are_shown_beside_their_fields(web: TestClient) -> None:
    refused = web.get("/app/audit", params={"since": "yesterday", "action": "DROP TABLE"})

    assert refused.status_code == 400
    assert "2026-01-31 09:00" in problem(refused.text, "since")
    assert problem(refused.text, "action")
    assert 'value="yesterday"' in refused.text
    assert "<caption>Audit trail</caption>" not in refused.text


def test_audit_pages_keep_their_filters(web: TestClient, service: Service, admin: Person) -> None:
    for number in range(55):
        add_person(service, admin, f"Person {number}", f"person{number}@example.com")

    first = web.get("/app/audit", params={"action": "user.created"}).text

    assert "1\N{EN DASH}50 of 56" in first  # the admin was created too
    found = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert found is not None
    query = parse_qs(urlsplit(unescape(found.group(1))).query)
    assert query == {"action": ["user.created"], "page": ["2"]}
    second = web.get(unescape(found.group(1))).text
    assert "51\N{EN DASH}56 of 56" in second


# The status page


def test_the_status_page_charts_the_deliveries_of_the_last_day(
    web: TestClient, service: Service, channel: RecordingChannel, admin: Person, member: Person
) -> None:
    reminder = add_reminder(service, admin, member.id)
    assert call(web, "POST", f"/notifications/send/{reminder.id}", key=admin.key).status_code == 200
    assert call(web, "POST", f"/notifications/send/{reminder.id}", key=admin.key).status_code == 200
    channel.failures = [PermanentChannelError("mailbox is gone")]
    assert call(web, "POST", f"/notifications/send/{reminder.id}", key=admin.key).status_code == 502

    page = web.get("/app/status")

    assert page.status_code == 200
    assert h1(page.text) == "Service status"
    assert '<svg class="chart" role="img" aria-labelledby="chart-title chart-desc"' in page.text
    desc = _DESC.search(page.text)
    assert desc is not None
    assert unescape(desc.group(1)) == (
        "In the last 24 hours, 3 deliveries were due: 2 sent, 1 failed, 0 missed, 0 cancelled, 0 waiting."
    )
    assert "<caption>Deliveries per hour</caption>" in page.text
    assert page.text.count('fill="url(#chart-fill-sent)"') == 2  # the bar and the legend's swatch
    assert "Sent: 2" in page.text
    assert "Failed: 1" in page.text
    assert "style=" not in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]

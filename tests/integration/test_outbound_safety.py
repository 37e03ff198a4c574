"""Outbound safety: webhook, Slack and Apprise targets that reach loopback, private, link-local,
multicast or reserved addresses are refused when a reminder is saved and again when it is sent (on
the address connected to), unless private targets are allowed. The receivers listen on 127.0.0.1,
which is just what is refused."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from adapters import outbound_addresses
from adapters.apprise_channel import AppriseChannel
from adapters.outbound_addresses import IPAddress
from adapters.slack_channel import SlackChannel
from adapters.webhook_channel import WebhookChannel
from application.commands import CreateReminder, CreateUser, ReminderPatch, SendReminderNow, UpdateReminder
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import InvalidTarget
from domain.reminder import Reminder
from domain.schedule import Frequency
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import admin, make_service, run_queue
from tests.integration.conftest import TIMEOUT, Sending, make_notification
from tests.integration.peers import HttpReceiver

# Apprise's PGP support imports a stdlib module that Python 3.11 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

PUBLIC = ipaddress.ip_address("93.184.216.34")
HINT = "(use --allow-private-targets for local development)"
SLACK_PATH = "/services/T0123ABCD/B0456EFGH/xQ7vR2mK9pL4sT8wY3zA6bC1"

# Each range, and each spelling of an address; what the refusal says about it.
NOT_PUBLIC = [
    ("http://127.0.0.1/hook", "127.0.0.1 is loopback"),
    ("http://127.8.9.10:8080/hook", "127.8.9.10 is loopback"),
    ("http://[::1]:8080/hook", "::1 is loopback"),
    ("http://10.0.0.1/hook", "10.0.0.1 is private"),
    ("http://172.16.5.4/hook", "172.16.5.4 is private"),
    ("http://192.168.0.10/hook", "192.168.0.10 is private"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
    ("http://[fd00::1]/hook", "fd00::1 is private"),
    ("http://[fe80::1]/hook", "fe80::1 is link-local"),
    ("http://[fe80::1%25eth0]/hook", "fe80::1%25eth0 (fe80::1) is link-local"),
    ("http://0.0.0.0:8080/hook", "0.0.0.0 is unspecified"),
    ("http://[::]/hook", ":: is unspecified"),
    ("http://224.0.0.1/hook", "224.0.0.1 is multicast"),
    ("http://[ff02::1]/hook", "ff02::1 is multicast"),
    ("http://240.0.0.1/hook", "240.0.0.1 is reserved"),
    ("http://100.64.0.1/hook", "100.64.0.1 is not a public address"),
    ("http://2130706433/hook", "2130706433 (127.0.0.1) is loopback"),
    ("http://0x7f.1/hook", "0x7f.1 (127.0.0.1) is loopback"),
    ("http://0x7f000001/hook", "0x7f000001 (127.0.0.1) is loopback"),
    ("http://0177.0.0.1/hook", "0177.0.0.1 (127.0.0.1) is loopback"),
    ("http://127.1/hook", "127.1 (127.0.0.1) is loopback"),
    ("http://0/hook", "0 (0.0.0.0) is unspecified"),
    ("http://[::ffff:127.0.0.1]/hook", "is loopback"),
    ("http://[::ffff:a9fe:a9fe]/hook", "is link-local"),  # 169.254.169.254, IPv4-mapped
    ("HTTPS://LOCALHOST:8443/hook", "localhost resolves to "),  # 127.0.0.1 or ::1
]


@pytest.fixture
def refusing() -> Iterator[WebhookChannel]:
    channel = WebhookChannel(secret=None, timeout=TIMEOUT)  # as in production
    yield channel
    channel.close()


@pytest.fixture
def allowing() -> Iterator[WebhookChannel]:
    channel = WebhookChannel(secret=None, timeout=TIMEOUT, allow_private_targets=True)
    yield channel
    channel.close()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[IPAddress]]:
    """Names that resolve as this dict says, from now on; every other name as usual."""
    answers: dict[str, list[IPAddress]] = {}
    real = outbound_addresses.resolve
    monkeypatch.setattr(outbound_addresses, "resolve", lambda host: answers.get(host) or real(host))
    return answers


def add_owner(service: Service) -> User:
    owner: User = service.bus.handle(CreateUser(actor=admin(service), name="Ann", email="ann@example.com"))
    return owner


def create_webhook_reminder(service: Service, owner: User, target: str) -> Reminder:
    reminder: Reminder = service.bus.handle(
        CreateReminder(
            actor=admin(service),
            owner_id=owner.id,
            title="Standup",
            message="Join the call",
            channel="webhook",
            target=target,
            time_of_day="09:00",
            frequency=Frequency.DAILY,
        )
    )
    return reminder


def assert_refused_for_good(
    channel: WebhookChannel | SlackChannel | AppriseChannel, url: str, name: str
) -> str:
    """One attempt, a permanent failure; returns its error."""
    result = Sending(name, channel).sender.attempt(make_notification(name, url), number=1)
    assert not result.succeeded
    assert not result.transient
    assert result.attempt.error is not None
    return result.attempt.error


# -- When a reminder is saved --------------------------------------------------------------------


@pytest.mark.parametrize(("url", "says"), NOT_PUBLIC)
def test_a_webhook_target_that_is_not_public_is_refused_in_words(
    refusing: WebhookChannel, url: str, says: str
) -> None:
    with pytest.raises(InvalidTarget) as refused:
        refusing.validate_target(url)

    assert refused.value.field == "target"
    assert refused.value.message.startswith("target must be a public address; ")
    assert says in refused.value.message
    assert refused.value.message.endswith(HINT)


@pytest.mark.parametrize(("url", "says"), NOT_PUBLIC)
def test_with_private_targets_allowed_the_same_targets_are_accepted(
    allowing: WebhookChannel, url: str, says: str
) -> None:
    allowing.validate_target(url)


@pytest.mark.parametrize(
    "url",
    ["https://93.184.216.34/hook", "http://[2606:4700:4700::1111]/hook", "https://no-such-host.invalid/"],
)
def test_public_addresses_and_names_that_do_not_resolve_yet_are_accepted(
    refusing: WebhookChannel, url: str
) -> None:
    refusing.validate_target(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:25/", "ftp://93.184.216.34/x"])
def test_only_http_and_https_are_webhook_targets(allowing: WebhookChannel, url: str) -> None:
    with pytest.raises(InvalidTarget, match="http or https URL"):
        allowing.validate_target(url)


def test_creating_or_changing_a_reminder_to_an_inward_target_is_refused(refusing: WebhookChannel) -> None:
    service = make_service(channels={"webhook": refusing})
    owner = add_owner(service)

    with pytest.raises(InvalidTarget, match=r"169\.254\.169\.254 is link-local"):
        create_webhook_reminder(service, owner, "http://169.254.169.254/latest/meta-data/")
    reminder = create_webhook_reminder(service, owner, "https://93.184.216.34/hook")
    with pytest.raises(InvalidTarget, match="is loopback"):
        service.bus.handle(
            UpdateReminder(
                actor=admin(service),
                reminder_id=reminder.id,
                changes=ReminderPatch(target="http://[::ffff:127.0.0.1]/"),
            )
        )

    changed: Reminder = service.bus.handle(
        UpdateReminder(
            actor=admin(service), reminder_id=reminder.id, changes=ReminderPatch(title="Still public")
        )
    )
    assert changed.target == "https://93.184.216.34/hook"


def test_a_slack_host_that_is_not_public_is_refused_unless_allowed(receiver: HttpReceiver) -> None:
    hook = f"http://localhost:{receiver.port}{SLACK_PATH}"
    hosts = frozenset({"localhost"})
    strict = SlackChannel(timeout=TIMEOUT, allowed_hosts=hosts, allow_insecure_local=True)
    local = SlackChannel(
        timeout=TIMEOUT, allowed_hosts=hosts, allow_insecure_local=True, allow_private_targets=True
    )

    with pytest.raises(InvalidTarget, match=r"localhost resolves to \S+, which is loopback"):
        strict.validate_target(hook)
    local.validate_target(hook)

    strict.close()
    local.close()


# -- When it is sent -----------------------------------------------------------------------------


def test_a_name_that_resolves_inward_by_the_time_it_is_sent_fails_for_good(
    refusing: WebhookChannel, receiver: HttpReceiver, dns: dict[str, list[IPAddress]]
) -> None:
    service = make_service(channels={"webhook": refusing})
    owner = add_owner(service)
    dns["hooks.rebinding.test"] = [PUBLIC]
    reminder = create_webhook_reminder(service, owner, f"http://hooks.rebinding.test:{receiver.port}/hook")

    dns["hooks.rebinding.test"] = [ipaddress.ip_address("127.0.0.1")]  # where the receiver listens
    service.bus.handle(SendReminderNow(actor=admin(service), reminder_id=reminder.id))
    [delivery] = run_queue(service)

    assert isinstance(delivery, Delivery)
    assert delivery.status is DeliveryStatus.FAILED
    [attempt] = delivery.attempts
    assert attempt.error == (
        "webhook hooks.rebinding.test was not contacted: target must be a public address; "
        f"hooks.rebinding.test resolves to 127.0.0.1, which is loopback {HINT}"
    )
    assert receiver.requests == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]"]
)
def test_an_inward_target_saved_while_allowed_is_not_sent_to_without_the_allowance(
    refusing: WebhookChannel, receiver: HttpReceiver, host: str
) -> None:
    error = assert_refused_for_good(refusing, f"http://{host}:{receiver.port}/hook", "webhook")

    assert "was not contacted: target must be a public address;" in error
    assert receiver.requests == []


def test_with_private_targets_allowed_a_local_receiver_gets_the_reminder(
    allowing: WebhookChannel, receiver: HttpReceiver
) -> None:
    outcome = Sending("webhook", allowing).send(
        make_notification("webhook", f"http://localhost:{receiver.port}/hook")
    )

    assert outcome.error is None
    assert [request.path for request in receiver.requests] == ["/hook"]
    assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"


def test_a_slack_webhook_on_an_inward_host_is_not_sent_to(receiver: HttpReceiver) -> None:
    slack = SlackChannel(timeout=TIMEOUT, allowed_hosts=frozenset({"localhost"}), allow_insecure_local=True)

    error = assert_refused_for_good(slack, f"http://localhost:{receiver.port}{SLACK_PATH}", "slack")
    slack.close()

    assert error.startswith("Slack webhook at localhost was not contacted: target must be a public address")
    assert receiver.requests == []


def test_through_a_proxy_the_targets_host_is_checked_before_the_request(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver stands in for the proxy, which the operator chose: its own address is not judged.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{receiver.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = WebhookChannel(secret=None, timeout=TIMEOUT)

    error = assert_refused_for_good(proxied, "http://10.0.0.1:8080/hook", "webhook")
    unresolved = Sending("webhook", proxied).send(
        make_notification("webhook", "http://hooks.internal.example:8080/hook")
    )
    proxied.close()

    assert error.startswith("webhook 10.0.0.1 was not contacted: target must be a public address; 10.0.0.1")
    assert unresolved.error is None  # a name only the proxy can resolve goes through it
    assert [request.path for request in receiver.requests] == ["http://hooks.internal.example:8080/hook"]


# -- Apprise --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("json://127.0.0.1:8080/hook", "127.0.0.1 is loopback"),
        ("json://localhost/hook", "localhost resolves to "),
        ("jsons://2130706433/hook", "2130706433 (127.0.0.1) is loopback"),
        ("form://10.0.0.1/hook", "10.0.0.1 is private"),
        ("xml://[::1]:8080/hook", "::1 is loopback"),
        ("json://169.254.169.254/latest", "169.254.169.254 is link-local"),
        ("rsyslog://192.168.1.5", "192.168.1.5 is private"),
        ("ntfy://10.0.0.1/topic", "10.0.0.1 is private"),
        ("mailto://user:pass@example.com?to=ann@example.com&smtp=10.0.0.2", "10.0.0.2 is private"),
        ("syslog://", "syslog:// notifies this machine itself"),
    ],
)
def test_an_apprise_url_that_reaches_inward_is_refused_unless_allowed(url: str, says: str) -> None:
    with pytest.raises(InvalidTarget, match="target") as refused:
        AppriseChannel(timeout=TIMEOUT).validate_target(url)

    assert says in refused.value.message
    assert refused.value.message.endswith(HINT)
    AppriseChannel(timeout=TIMEOUT, allow_private_targets=True).validate_target(url)


@pytest.mark.parametrize(
    "url",
    [
        "json://93.184.216.34/hook",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        "discord://1234/abcdefgh",  # "1234" is a token here, not the address 0.0.4.210
        "ntfys://reminders-topic",
    ],
)
def test_apprise_urls_to_public_hosts_and_services_are_accepted(url: str) -> None:
    AppriseChannel(timeout=TIMEOUT).validate_target(url)


def test_an_apprise_json_url_to_a_local_receiver_is_sent_only_when_allowed(receiver: HttpReceiver) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook"

    error = assert_refused_for_good(AppriseChannel(timeout=TIMEOUT), url, "apprise")
    assert error == f"target must be a public address; 127.0.0.1 is loopback {HINT}"
    assert receiver.requests == []

    allowed = Sending("apprise", AppriseChannel(timeout=TIMEOUT, allow_private_targets=True))
    assert allowed.send(make_notification("apprise", url)).error is None
    assert [request.path for request in receiver.requests] == ["/hook"]


def test_an_apprise_host_that_resolves_inward_by_send_time_fails_for_good(
    receiver: HttpReceiver, dns: dict[str, list[IPAddress]]
) -> None:
    channel = AppriseChannel(timeout=TIMEOUT)
    url = f"json://notify.rebinding.test:{receiver.port}/hook"
    dns["notify.rebinding.test"] = [PUBLIC]
    channel.validate_target(url)

    dns["notify.rebinding.test"] = [ipaddress.ip_address("10.1.2.3")]
    error = assert_refused_for_good(channel, url, "apprise")

    assert "notify.rebinding.test resolves to 10.1.2.3, which is private" in error
    assert receiver.requests == []

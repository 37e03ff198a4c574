"""Settings: each one a command-line flag and an environment variable REMINDERS_<FLAG>, typed and checked.

A flag wins over the environment, which wins over the default. A bad value stops start-up with a
message naming the flag, the variable and the problem. Each command takes only the settings that
apply to it (`SERVE`, `TICK`, `WORKER`, `MIGRATE`): its --help lists those, under headings, and it
reads only their variables, so one environment can serve every kind of process.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.user import EMAIL_PATTERN

S = TypeVar("S", bound=BaseModel)


class SettingsError(Exception):
    pass


class StoreSettings(BaseModel):
    """What every command needs: where the data lives, and how to log."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    database_url: str = Field(
        "sqlite:///reminders.db",
        min_length=1,
        description="sqlite:///path/to/file.db, postgresql://user@host:port/db, or memory:// (nothing kept).",
        json_schema_extra={"secret": True},
    )
    log_format: Literal["json", "text"] = Field("json", description="JSON lines, or text for humans.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest level logged."
    )


class ServeSettings(StoreSettings):
    @property
    def link_base_url(self) -> str:
        """Where the links in messages point: --public-url, else the address the service listens on."""
        return self.public_url or f"http://{self.host}:{self.port}"

    migrate: bool = Field(True, description="Bring the database schema up to date at start-up.")
    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    scheduler_enabled: bool = Field(True, description="Run the clock-tick inside the server.")
    tick_seconds: float = Field(1.0, gt=0, le=3600, description="Seconds between scheduler ticks.")
    batch_size: int = Field(500, ge=1, le=100_000, description="Most reminders fired by one tick.")
    grace_seconds: float = Field(
        300, ge=0, le=7 * 86_400, description="A slot older than this when fired is missed."
    )
    delivery_enabled: bool = Field(True, description="Run a delivery worker inside the server.")
    delivery_concurrency: int = Field(16, ge=1, le=1024, description="Deliveries sent at once by a worker.")
    per_target_concurrency: int = Field(
        4, ge=1, le=1024, description="Most deliveries in flight to one host at a time, per worker."
    )
    delivery_lease_seconds: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="How long a claim lasts; a delivery whose worker died is sent again after it. "
        "Longer than --channel-timeout-seconds.",
    )
    send_wait_seconds: float = Field(
        10.0,
        ge=0,
        le=300,
        description="Longest a send-now or retry request waits for the outcome (then 202).",
    )
    shutdown_grace_seconds: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="Longest wait at shutdown for work in flight; unsent deliveries go back to the queue.",
    )
    keep_deliveries_days: float = Field(
        90, gt=0, le=36_500, description="Finished deliveries older than this are deleted."
    )
    retry_base_seconds: float = Field(1.0, ge=0, le=3600, description="First retry backoff.")
    retry_max_seconds: float = Field(30.0, ge=0, le=86_400, description="Longest retry backoff.")
    smtp_url: str | None = Field(
        None,
        description="smtp:// or smtps://[user:password@]host[:port][?starttls=true]; unset: email is logged.",
        json_schema_extra={"secret": True},
    )
    email_from: str = Field(
        "reminders@localhost", min_length=3, pattern=EMAIL_PATTERN, description="Sender of reminder emails."
    )
    webhook_secret: str | None = Field(
        None,
        min_length=1,
        description="The webhook signing secret of the `default` team made on first start (each team "
        "has its own; admins rotate it with POST /team/webhook-secret).",
        json_schema_extra={"secret": True},
    )
    channel_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Connect and read timeout of channels."
    )
    public_url: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        pattern=r"^https?://[^\s]+$",
        description="The address people reach the service at, for the acknowledge and snooze links in "
        "messages, e.g. https://reminders.example.com; unset: http://HOST:PORT.",
    )
    allow_private_targets: bool = Field(
        False,
        description="Let webhook, Slack and Apprise targets reach loopback, private and link-local "
        "addresses: for local development and tests only.",
    )
    rate_limit_storage: str = Field(
        "memory://",
        min_length=1,
        description="Where the per-API-key rate limits count: memory:// (each process alone), or "
        "redis://[:password@]host[:port][/db] (rediss:// with TLS), shared by every instance.",
        json_schema_extra={"secret": True},
    )
    send_rate_limit: str = Field(
        "10/minute", description="Most send-now and retry requests of one API key, e.g. 10/minute."
    )
    write_rate_limit: str = Field(
        "120/minute",
        description="Most writes (POST, PUT, PATCH, DELETE) of one API key, sends included, e.g. 120/minute.",
    )

    @field_validator("send_rate_limit", "write_rate_limit")
    @classmethod
    def _one_rate_limit(cls, value: str) -> str:
        # Imported here, not with this module: `--help` and the client commands never need it.
        from limits import parse_many

        try:
            items = parse_many(value)
        except ValueError:
            items = []
        if len(items) != 1 or items[0].amount < 1:
            raise ValueError(
                "a rate limit is a number of requests per second, minute, hour, day, month or year, "
                "like 10/minute, 100 per hour or 5/10 seconds"
            )
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _rate_limit_storage(cls, value: str) -> str:
        # The messages name the scheme only: the URL may hold a password.
        if value == "memory://":
            return value
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in ("redis", "rediss"):
            given = f"a {scheme}:// URL" if scheme else "a URL without a scheme"
            raise ValueError(
                f"the rate-limit storage is memory:// or a redis:// or rediss:// URL, not {given}"
            )
        try:
            parts.port  # noqa: B018 (raises for a port that is not a number from 0 to 65535)
        except ValueError:
            raise ValueError(f"the port of the {scheme}:// rate-limit storage is not a port number") from None
        if not parts.hostname:
            raise ValueError(
                f"a {scheme}:// rate-limit storage needs a host, like {scheme}://127.0.0.1:6379/0"
            )
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> ServeSettings:
        if self.delivery_lease_seconds <= self.channel_timeout_seconds:
            raise ValueError(
                f"--delivery-lease-seconds ({self.delivery_lease_seconds:g}) must be longer than "
                f"--channel-timeout-seconds ({self.channel_timeout_seconds:g}), "
                "or a slow send would outlive its claim"
            )
        return self


def is_secret(model: type[BaseModel], name: str) -> bool:
    extra = model.model_fields[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("secret"))


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def env_var(name: str) -> str:
    return "REMINDERS_" + name.upper()


# Shorter negative flags some settings also answer to: (flag, help).
_ALIASES = {
    "scheduler_enabled": ("--no-scheduler", "Same as --no-scheduler-enabled."),
    "delivery_enabled": (
        "--no-delivery",
        "Same as --no-delivery-enabled: queue deliveries for `reminders worker` processes to send.",
    ),
}


@dataclass(frozen=True, slots=True)
class FlagGroup:
    """Settings listed together under one heading of a command's --help. `notes` replace a setting's
    description where it means something narrower in that command."""

    title: str
    names: tuple[str, ...]
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommandSettings(Generic[S]):
    """The settings one command takes: the model they make, and the groups of flags it lists. A
    setting of the model outside the groups keeps its default, whatever the environment says."""

    model: type[S]
    groups: tuple[FlagGroup, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for group in self.groups for name in group.names)

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        add_flags(parser, self.model, self.groups)

    def load(self, args: argparse.Namespace, environ: Mapping[str, str]) -> S:
        return load(self.model, args, environ, names=self.names)


_STORE = ("database_url", "log_format", "log_level")
_SCHEDULER = ("tick_seconds", "batch_size", "grace_seconds", "keep_deliveries_days")
_DELIVERY = (
    "delivery_concurrency",
    "per_target_concurrency",
    "delivery_lease_seconds",
    "shutdown_grace_seconds",
    "retry_base_seconds",
    "retry_max_seconds",
)
_CHANNELS = FlagGroup(
    "channels",
    (
        "smtp_url",
        "email_from",
        "webhook_secret",
        "channel_timeout_seconds",
        "allow_private_targets",
        "public_url",
    ),
)
_STORE_AND_SCHEMA = FlagGroup("store and logs", (*_STORE, "migrate"))

SERVE = CommandSettings(
    ServeSettings,
    (
        _STORE_AND_SCHEMA,
        FlagGroup("HTTP", ("host", "port", "send_wait_seconds")),
        FlagGroup("rate limits", ("rate_limit_storage", "send_rate_limit", "write_rate_limit")),
        FlagGroup("scheduler", ("scheduler_enabled", *_SCHEDULER)),
        FlagGroup("delivery", ("delivery_enabled", *_DELIVERY)),
        _CHANNELS,
    ),
)
TICK = CommandSettings(ServeSettings, (_STORE_AND_SCHEMA, FlagGroup("scheduler", _SCHEDULER)))
WORKER = CommandSettings(
    ServeSettings,
    (
        _STORE_AND_SCHEMA,
        FlagGroup(
            "delivery",
            (*_DELIVERY, "tick_seconds"),
            notes={
                "tick_seconds": "The queue is polled every 0.25 s, or every this many seconds when shorter."
            },
        ),
        _CHANNELS,
    ),
)
MIGRATE = CommandSettings(StoreSettings, (FlagGroup("store and logs", _STORE),))


def add_flags(
    parser: argparse.ArgumentParser, model: type[BaseModel], groups: Collection[FlagGroup] | None = None
) -> None:
    """A flag for each setting in `groups` (every setting of `model` when None), under its heading."""
    for group in groups if groups is not None else (FlagGroup("settings", tuple(model.model_fields)),):
        section = parser.add_argument_group(group.title)
        for name in group.names:
            field_info = model.model_fields[name]
            default = "unset" if field_info.default is None else field_info.default
            description = group.notes.get(name, field_info.description)
            help_text = f"{description} [{env_var(name)}; default: {default}]".replace("%", "%%")
            if field_info.annotation is bool:
                section.add_argument(
                    flag(name), dest=name, action=argparse.BooleanOptionalAction, help=help_text
                )
            else:
                section.add_argument(
                    flag(name), dest=name, metavar=_metavar(name, field_info.annotation), help=help_text
                )
            if name in _ALIASES:
                alias, alias_help = _ALIASES[name]
                section.add_argument(alias, dest=name, action="store_false", default=None, help=alias_help)


def _metavar(name: str, annotation: object) -> str:
    """The choices of a setting that has a few, as argparse shows them ({json,text}); else its name."""
    if get_origin(annotation) is Literal:
        return "{" + ",".join(str(choice) for choice in get_args(annotation)) + "}"
    return name.upper()


def load(
    model: type[S],
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    names: Collection[str] | None = None,
) -> S:
    """The settings from the flags in `args` and the variables in `environ`; only `names` (by default
    every setting of `model`) are read, the others keep their defaults."""
    given: dict[str, object] = {}
    source: dict[str, str] = {}
    for name in model.model_fields if names is None else names:
        from_flag = getattr(args, name, None)
        if from_flag is not None:
            given[name], source[name] = from_flag, flag(name)
        elif env_var(name) in environ:
            given[name], source[name] = environ[env_var(name)], env_var(name)
    try:
        return model.model_validate(given)
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_url=False):
            if not problem["loc"]:  # a rule between settings names them itself
                lines.append(str(problem["msg"]).removeprefix("Value error, "))
                continue
            name = str(problem["loc"][0])
            where = source.get(name, flag(name))
            shown = "(hidden)" if name and is_secret(model, name) else repr(given.get(name))
            message = str(problem["msg"]).removeprefix("Value error, ")  # a validator's own words
            lines.append(f"invalid {where}={shown}: {message}")
        raise SettingsError("\n".join(lines)) from None

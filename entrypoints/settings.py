"""Settings: each one a command-line flag and an environment variable REMINDERS_<FLAG>, typed and checked.

A flag wins over the environment, which wins over the default. A bad value stops start-up with a
message naming the flag, the variable and the problem.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
        description="Longest wait for deliveries in flight at shutdown; the rest go back.",
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
        description="Key of the webhooks' HMAC-SHA256 signature.",
        json_schema_extra={"secret": True},
    )
    channel_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Connect and read timeout of channels."
    )

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


def add_flags(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        help_text = f"{field.description} [{env_var(name)}; default: {field.default}]".replace("%", "%%")
        if field.annotation is bool:
            parser.add_argument(flag(name), dest=name, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            parser.add_argument(flag(name), dest=name, metavar=name.upper(), help=help_text)


def load(model: type[S], args: argparse.Namespace, environ: Mapping[str, str]) -> S:
    given: dict[str, object] = {}
    source: dict[str, str] = {}
    for name in model.model_fields:
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
            lines.append(f"invalid {where}={shown}: {problem['msg']}")
        raise SettingsError("\n".join(lines)) from None

"""Driving the web app's pages from a test client: the form token, signing in, posting a form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from entrypoints.bootstrap import Service
from entrypoints.server import app_for
from entrypoints.settings import ServeSettings
from tests.e2e.conftest import unlimited
from tests.stores import StoreUnderTest

_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "the page has no form token"
    return found.group(1)


def post_form(client: TestClient, path: str, fields: dict[str, str | list[str]], *, from_page: str) -> object:
    """Post `fields` as the form on `from_page` would, its token included; redirects not followed."""
    token = csrf_of(client.get(from_page).text)
    return client.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)


def sign_in(client: TestClient, key: str) -> None:
    page = client.get("/app/sign-in")
    answer = client.post(
        "/app/sign-in",
        data={"api_key": key, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


@contextmanager
def browser(
    service: Service,
    metrics: PrometheusMetrics,
    store: StoreUnderTest,
    settings: ServeSettings | None = None,
) -> Iterator[TestClient]:
    """A client with no API key, as a browser is: it holds only the cookies the pages give it."""
    app = app_for(
        service, metrics, unlimited(settings or ServeSettings(scheduler_enabled=False)), store_kind=store.kind
    )
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1:8000") as client:
        yield client

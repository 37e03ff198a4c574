"""/docs: interactive API documentation served entirely by the service; / points people to it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from tests.e2e.api_helpers import assert_error

MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}


class References(HTMLParser):
    """The URLs a page loads (scripts, stylesheets, icons) and the OpenAPI document it names."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.documents: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(found[name] or "")
        if found.get("data-openapi"):
            self.documents.append(found["data-openapi"] or "")


def references(page: str) -> References:
    parser = References()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("path", ["/docs", "/docs/"])
def test_the_docs_page_is_html_that_loads_swagger_ui_from_the_service(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text
    found = references(response.text)
    assert any(url.endswith(".js") for url in found.urls)
    assert any(url.endswith(".css") for url in found.urls)
    assert "://" not in response.text, "the page must not load anything from another host"
    for url in found.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url


def test_every_asset_the_page_loads_is_served_with_its_content_type(client: TestClient) -> None:
    found = references(client.get("/docs").text)
    scripts = [url for url in found.urls if url.endswith(".js")]

    for url in found.urls:
        response = client.get(url)
        assert response.status_code == 200, url
        expected = MEDIA_TYPES[url[url.rindex(".") :]]
        assert response.headers["content-type"].split(";")[0] == expected, url
        assert response.content, url
    assert "SwaggerUIBundle" in client.get(scripts[0]).text
    # Swagger UI's validator badge would fetch from a public host: the page turns it off.
    assert "validatorUrl: null" in client.get(scripts[-1]).text


def test_the_docs_page_shows_the_services_own_openapi_document(client: TestClient) -> None:
    [document] = references(client.get("/docs").text).documents

    assert document == "/openapi.json"
    response = client.get(document)
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Team Reminder Service"


def test_an_asset_the_page_does_not_use_is_a_404(client: TestClient) -> None:
    for name in ("swagger-editor-bundle.js", "LICENSE", "..%2F__init__.py", "nothing.css"):
        assert_error(client.get(f"/docs/assets/{name}"), 404, "not_found")


def test_the_root_points_to_the_docs_health_and_the_openapi_document(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    index = response.json()
    assert index["service"] == "Team Reminder Service"
    assert (index["docs"], index["health"], index["openapi"]) == ("/docs", "/health", "/openapi.json")
    assert client.get(index["docs"]).headers["content-type"].startswith("text/html")
    assert client.get(index["health"]).json()["status"] == "ok"
    assert client.get(index["openapi"]).json()["openapi"].startswith("3.1")


def test_the_docs_page_is_not_an_operation_of_the_api_but_the_root_is(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith("/docs")]
    assert paths["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ServiceIndexOut"
    )

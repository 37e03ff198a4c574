"""The small HTML pages a signed action link opens: a confirmation with one button, then what happened.

Plain semantic HTML, no script and no style, so the Content-Security-Policy can forbid both; every
value is escaped. A page never shows the link's token: the confirmation's form has no action, so
the browser posts it back to the very address it came from.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Final

from starlette.responses import HTMLResponse

from application.link_views import LinkView

# Nothing may load, run, frame the page or be posted anywhere but back to the service.
_POLICY: Final = "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
_HEADERS: Final = {
    "Content-Security-Policy": _POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The address holds the token: it must not travel on in a Referer, nor stay in a cache.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
# What a snooze link offers, in minutes, with how the page names each choice.
SNOOZE_CHOICES: Final = (
    (10, "10 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (240, "4 hours"),
    (1440, "1 day"),
)


def _escaped(text: str) -> str:
    return html.escape(text, quote=True)


def _document(heading: str, body: str) -> str:
    title = _escaped(heading)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex, nofollow">
  <title>{title}</title>
</head>
<body>
<main>
  <h1>{title}</h1>
{body}</main>
</body>
</html>
"""


def page(
    status: int, heading: str, paragraphs: Sequence[str], extra: dict[str, str] | None = None
) -> HTMLResponse:
    """A page of plain sentences, each escaped."""
    body = "".join(f"  <p>{_escaped(paragraph)}</p>\n" for paragraph in paragraphs)
    return HTMLResponse(_document(heading, body), status_code=status, headers={**_HEADERS, **(extra or {})})


def _named(view: LinkView) -> str:
    return f"the reminder “{view.title}”" if view.title is not None else "this reminder"


def confirmation(view: LinkView) -> HTMLResponse:
    """What the button will do, and the button; opening the page does nothing yet."""
    reminder = _escaped(_named(view))
    person = _escaped(view.recipient_name)
    if view.action == "ack":
        heading = "Acknowledge this reminder?"
        question = (
            f"  <p>Acknowledge {reminder} for {person}. Its repeats still waiting will not be sent.</p>\n"
        )
        fields = ""
        button = "Acknowledge"
    else:
        heading = "Snooze this reminder?"
        question = f"  <p>Snooze {reminder} for {person}: it is sent again after the time you choose.</p>\n"
        options = "".join(
            f'      <option value="{minutes}"{" selected" if minutes == view.default_snooze_minutes else ""}>'
            f"{_escaped(label)}</option>\n"
            for minutes, label in SNOOZE_CHOICES
        )
        fields = (
            '    <p><label for="minutes">Snooze for</label>\n'
            f'    <select id="minutes" name="minutes">\n{options}    </select></p>\n'
        )
        button = "Snooze"
    form = f'  <form method="post">\n{fields}    <p><button type="submit">{button}</button></p>\n  </form>\n'
    return HTMLResponse(_document(heading, question + form), headers=_HEADERS)

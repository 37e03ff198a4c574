"""Redaction: secrets inside URLs are masked before any text is stored, logged or returned.

Pure text rewriting, safe to apply twice. It masks what has a recognisable shape: a URL's password,
the secret last segment of Slack, Discord and Telegram webhook paths, the token of this service's
own action links, credential-like query
values, and long mixed-case tokens in a URL path. A secret with no such shape (a bare word, a
token in a host name) cannot be told from ordinary text: channels keep those out of their
messages in the first place.
"""

from __future__ import annotations

import re

MASK = "****"

# scheme://user:password@host: the password runs to the last "@" before the path.
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/?#@]*:)[^\s/?#]*(?=@)")
# Slack incoming webhooks (/services/T…/B…/secret) and workflow triggers; matched by path shape,
# whatever the host, so a proxy or a test receiver is masked too.
_SLACK = re.compile(r"(?P<head>/(?:services|triggers|workflows)/T[A-Za-z0-9]+/(?:[A-Za-z0-9]+/)+)[^\s/?#]+")
_DISCORD = re.compile(r"(?P<head>/api/webhooks/\d+/)[^\s/?#]+")
_TELEGRAM = re.compile(r"(?P<head>/bot)\d+:[A-Za-z0-9_-]+")
# This service's own action links (acknowledge, snooze): the token after /links/ is the permission.
_ACTION_LINK = re.compile(r"(?P<head>/links/)[^\s/?#]+")
# A query parameter whose name says it holds a credential.
_QUERY = re.compile(
    r"(?P<head>[?&;](?:[^\s=&#;]*(?:token|secret|key|passw|signature|auth|credential|session)[^\s=&#;]*"
    r"|sig|pwd|pass|code)=)[^\s&#;]+",
    re.IGNORECASE,
)
# A URL's path, and in it a segment of 24+ letters, digits, "-" or "_" with upper case, lower case
# and digits: the shape of generated API tokens, and not of words, UUIDs (lower-case hex) or ULIDs.
_URL_PATH = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#]*)(?P<path>/[^\s?#]*)")
_PATH_TOKEN = re.compile(
    r"(?<=/)(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{24,}(?=/|$)"
)


def _mask_path_tokens(url: re.Match[str]) -> str:
    return url["head"] + _PATH_TOKEN.sub(MASK, url["path"])


def redact(text: str) -> str:
    """`text` with every recognisable secret in a URL replaced by ****."""
    if "/" not in text and "=" not in text:
        return text  # every shape below has one; most log fields have neither
    for pattern in (_USERINFO, _SLACK, _DISCORD, _TELEGRAM, _ACTION_LINK, _QUERY):
        text = pattern.sub(rf"\g<head>{MASK}", text)
    return _URL_PATH.sub(_mask_path_tokens, text)

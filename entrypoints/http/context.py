"""The request id of the request being served, for every log line and error body on its path.

It lives in the application ring, which writes it into audit entries."""

from __future__ import annotations

from application.context import request_id as request_id

__all__ = ["request_id"]

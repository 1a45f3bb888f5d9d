"""How iHub events are shaped before they are stored as ``ihub.log`` records."""

import json
import traceback
from datetime import UTC, date, datetime

LEVELS = ("info", "warning", "error")

# Longest summary kept in the indexed column; the full text always lands in ``details``.
SUMMARY_MAX_LENGTH = 512


def format_details(details):
    """Return ``details`` as text: JSON for dicts and lists, the traceback for exceptions.

    Dates and times are written in ISO 8601, a time with its offset: a naive datetime is UTC,
    as Odoo stores it, and says so (``2026-05-01T08:00:00+00:00``). Anything else JSON cannot
    encode (decimals, records) is written with ``str`` so that logging never fails because of
    what is being logged.
    """
    if details is None or details is False:
        return False
    if isinstance(details, str):
        return details
    if isinstance(details, bytes):
        return details.decode("utf-8", errors="replace")
    if isinstance(details, BaseException):
        return "".join(traceback.format_exception(details)).rstrip()
    if isinstance(details, dict | list | tuple):
        return json.dumps(
            details, indent=2, sort_keys=True, default=_json_value, ensure_ascii=False
        )
    return str(details)


def _json_value(value):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def format_summary(summary, level):
    """Return a one-line summary, falling back on the level when the caller gave none."""
    text = " ".join(str(summary).split()) if summary not in (None, False, "") else ""
    if not text:
        text = {"info": "Information", "warning": "Warning", "error": "Error"}[level]
    if len(text) > SUMMARY_MAX_LENGTH:
        text = text[: SUMMARY_MAX_LENGTH - 1] + "…"
    return text


def pop_raise_flag(raise_exception, extra_kwargs):
    """Merge the historical ``raise=True`` spelling into ``raise_exception``.

    ``raise`` is a Python keyword, so callers can only pass it as ``**{"raise": True}``; any
    other unexpected keyword is a programming error and is reported like Python would.
    """
    if "raise" in extra_kwargs:
        raise_exception = raise_exception or bool(extra_kwargs.pop("raise"))
    if extra_kwargs:
        unexpected = ", ".join(sorted(extra_kwargs))
        raise TypeError(f"ihub_error() got unexpected keyword argument(s): {unexpected}")
    return raise_exception

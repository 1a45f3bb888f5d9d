"""How iHub events are shaped before they are stored as ``ihub.log`` records."""

import json
import traceback

LEVELS = ("info", "warning", "error")

# Longest summary kept in the indexed column; the full text always lands in ``details``.
SUMMARY_MAX_LENGTH = 512


def format_details(details):
    """Return ``details`` as text: JSON for dicts and lists, the traceback for exceptions.

    Anything JSON cannot encode (dates, decimals, records) is written with ``str`` so that
    logging never fails because of what is being logged.
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
        return json.dumps(details, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return str(details)


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

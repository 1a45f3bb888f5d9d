"""The plain-Python side of external-id mappers: what callers may pass, and what is stored.

The ``Mapper`` object itself (``ihub/models/ihub_mapper.py``) talks to the database; these
functions normalise its arguments so that every call sends clean, duplicate-free arrays to a
single SQL statement.
"""

# An external id is stored as text; these are the Python types accepted for it. ``bool`` is an
# ``int`` subclass but never an id: ``True`` would silently become "True".
_ID_TYPES = (str, int)


def to_external_id(value):
    """Return ``value`` as the external id string stored in the mapper.

    Strings are kept as they are (no stripping: "A1" and "A1 " are two ids of the other
    system); integers become their decimal string. Anything else, ``bool``, empty or ``None``
    included, raises ``ValueError``: a mapper silently keyed by ``"None"`` or ``"False"`` would
    bind unrelated records together.
    """
    if isinstance(value, bool) or not isinstance(value, _ID_TYPES):
        raise ValueError(f"an external id is a non-empty string or an integer, not {value!r}")
    text = value if isinstance(value, str) else str(value)
    if not text:
        raise ValueError("an external id cannot be empty")
    return text


def to_external_ids(values):
    """The distinct external ids of ``values`` (an iterable), as strings, in first-seen order."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"expected several external ids (a list), not the string {values!r}")
    # Non-empty strings, the usual case, skip the function call: batches hold thousands.
    return list(
        dict.fromkeys(
            value if type(value) is str and value else to_external_id(value) for value in values
        )
    )


def to_bindings(pairs, record_id):
    """Normalise ``(external_id, record[, hash])`` tuples for one ``INSERT … ON CONFLICT``.

    ``record_id`` turns the second item (a record or an id) into an integer id. Returns three
    aligned lists (external ids, record ids, hashes) where each external id and each record id
    occurs once: a later pair wins over an earlier one that shares its external id or its
    record, which is what binding them one after the other would leave. A single statement
    cannot touch the same row twice, hence the de-duplication here.
    """
    by_external_id = {}
    for pair in pairs:
        if not 2 <= len(pair) <= 3:
            raise ValueError(f"expected (external_id, record[, hash]), not {pair!r}")
        external_id = to_external_id(pair[0])
        res_id = record_id(pair[1])
        external_hash = pair[2] if len(pair) == 3 else None
        if external_hash is not None and not isinstance(external_hash, str):
            raise ValueError(f"an external hash is a string, not {external_hash!r}")
        # Re-inserting moves the key to the end, so that "later wins" holds below as well.
        by_external_id.pop(external_id, None)
        by_external_id[external_id] = (res_id, external_hash)
    by_record = {}
    for external_id, (res_id, external_hash) in by_external_id.items():
        by_record.pop(res_id, None)
        by_record[res_id] = (external_id, external_hash)
    external_ids = [external_id for external_id, _hash in by_record.values()]
    hashes = [external_hash for _external_id, external_hash in by_record.values()]
    return external_ids, list(by_record), hashes

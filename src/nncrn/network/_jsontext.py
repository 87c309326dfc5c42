"""Parse JSON text from a file or a pragma line, with every failure a :class:`FormatError`.

``json.loads`` fails in three ways besides malformed text: a ``RecursionError`` for
arrays or objects nested about a thousand deep, a ``ValueError`` for an integer of more
than 4300 digits (Python's int-string limit) and a ``UnicodeDecodeError`` for bytes that
are not UTF-8. Each becomes a :class:`~nncrn.FormatError` that names the text (``what``)
and says what to fix.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from nncrn._errors import FormatError

__all__ = ["loads"]


def _int(text: str) -> int:
    digits = len(text.lstrip("+-"))
    limit = sys.get_int_max_str_digits() or digits
    if digits > limit:
        raise FormatError(
            f"holds an integer of {digits} digits ({text[:12]}...); integers are limited to "
            f"{limit} digits, and no count, coefficient or setting needs more"
        )
    return int(text)


def loads(text: str | bytes | bytearray, what: str, hint: str = "") -> Any:
    """``json.loads(text)``; malformed, too deeply nested or oversized text is a FormatError.

    ``what`` names the text in messages (``"network JSON"``, ``"CRN text line 3: @nncrn
    metadata pragma"``) and ``hint`` (``"; the file must be ..."``) ends the message for
    malformed text; a :class:`UnicodeDecodeError` is left to the caller, which knows the file.
    """
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{what} is malformed at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
        ) from None
    except FormatError as exc:
        raise FormatError(f"{what} {exc}") from None
    except RecursionError:
        raise FormatError(
            f"{what} nests JSON arrays or objects too deeply for Python's parser (about "
            f"{sys.getrecursionlimit()} levels); nncrn writes at most a few levels, so this "
            "is not a file nncrn wrote, or it is damaged"
        ) from None

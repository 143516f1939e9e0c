"""What key material looks like in text (a PEM block, a URL's credentials, a token or a key's base64), so that no
message, key path or accepted value of a non-secret field ever carries it."""

from __future__ import annotations

import re

_PEM = re.compile(r"-----BEGIN[^\n]*?-----.*?(?:-----END[^\n]*?-----[ \t]*\n?|\Z)", re.DOTALL)
_CREDENTIALS = re.compile(r"(?<=://)[^/?#@\s]*(?=@)")
"""The user information of a URL (``rediss://:password@host``)."""
_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
"""A run as long as a token (a Cloudflare API token has 40 characters) or a line of a key's base64."""
HIDDEN = "[not shown]"


def _token_like(run: str) -> bool:
    """Random text mixes upper case, lower case and digits; names, hosts, hex ids and paths in one case do not."""
    return any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run)


def looks_like_key_material(text: str) -> bool:
    return (
        "-----BEGIN" in text
        or _CREDENTIALS.search(text) is not None
        or any(_token_like(m.group()) for m in _RUN.finditer(text))
    )


def redacted(text: str) -> str:
    """The text with whatever looks like key material replaced by ``[not shown]``, and line breaks escaped (a key
    path or message stays on its line)."""
    text = _CREDENTIALS.sub(HIDDEN, _PEM.sub(HIDDEN, text))
    text = _RUN.sub(lambda m: HIDDEN if _token_like(m.group()) else m.group(), text)
    return text.replace("\r", "\\r").replace("\n", "\\n")

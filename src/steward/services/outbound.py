"""Check a URL the server is asked to contact against the outbound rules.

The rule is pure (``steward.domain.outbound``); this adds the I/O: the host's addresses as
the resolver gives them now. A name that does not resolve is checked by name only (the
connection will fail anyway); delivery re-checks at send time, so a name re-pointed at a
refused address after creation is caught then (a resolver that changes its answer between
this check and the connect remains possible; the allow-list is the strong control).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from steward.domain import outbound
from steward.settings import Settings


def addresses(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def check_host(settings: Settings, host: str, what: str) -> None:
    outbound.check(host, addresses(host), settings.outbound_allow, what)


def check_url(settings: Settings, url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    check_host(settings, host, what)

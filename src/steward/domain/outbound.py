"""Which hosts the server may reach (webhooks, data connections): the outbound allow-list.

Any URL a user gives the server to contact is a way to make the server reach places the
user cannot (server-side request forgery): the cloud metadata service hands out the
machine's credentials at 169.254.169.254, and loopback reaches services bound to the
server's own host. The rule, pure here (resolving names is the caller's I/O):

- link-local (169.254.0.0/16, fe80::/10), the metadata addresses and names, and the
  unspecified address are refused unless the administrator lists that exact address;
- loopback (127.0.0.0/8, ::1, ``localhost``) is refused unless listed;
- when ``STEWARD_OUTBOUND_ALLOW`` lists entries, only hosts it matches are allowed. An entry
  is a host name (``hooks.example.com``), a suffix (``*.example.com``), an address
  (``10.0.0.5``) or a network (``10.0.0.0/8``). Empty: every other host is allowed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from steward.domain.errors import InvalidInput

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
ALLOW_SETTING = "STEWARD_OUTBOUND_ALLOW"


def parse_allow(text: str | None) -> tuple[str, ...]:
    """``STEWARD_OUTBOUND_ALLOW``: comma- or space-separated entries, lower-cased."""
    entries = [e.strip().lower() for e in (text or "").replace(",", " ").split() if e.strip()]
    for entry in entries:
        if "/" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise InvalidInput(
                    f"{ALLOW_SETTING} entry {entry!r} is not a network like 10.0.0.0/8.",
                    field=ALLOW_SETTING,
                ) from None
    return tuple(entries)


def _address(text: str) -> IP | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _listed_address(address: IP, allow: Sequence[str]) -> bool:
    for entry in allow:
        if "/" in entry:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        elif _address(entry) == address:
            return True
    return False


def _listed_exactly(address: IP, allow: Sequence[str]) -> bool:
    return any("/" not in e and _address(e) == address for e in allow)


def _listed_name(host: str, allow: Sequence[str]) -> bool:
    for entry in allow:
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
        if entry == host:
            return True
    return False


def check(host: str, addresses: Sequence[str], allow: Sequence[str], what: str) -> None:
    """Refuse ``host`` (with the addresses it resolves to) unless the rules above allow it."""
    name = (host or "").strip().lower().rstrip(".")
    literal = _address(name)
    resolved = [a for a in (_address(x) for x in addresses) if a is not None]
    if literal is not None:
        resolved = [literal, *resolved]
    fix = (
        f"An administrator allows a host by adding it to {ALLOW_SETTING} (names, "
        "*.suffixes, addresses or networks)."
    )
    if name in METADATA_NAMES:
        raise InvalidInput(
            f"{what} may not reach {host!r}: it is a cloud metadata service.", field="url"
        )
    if (name == "localhost" or name.endswith(".localhost")) and not resolved:
        resolved = [ipaddress.ip_address("127.0.0.1")]
    for address in resolved:
        mapped = getattr(address, "ipv4_mapped", None) or address
        if mapped in METADATA_ADDRESSES or any(mapped in net for net in LINK_LOCAL):
            if not _listed_exactly(mapped, allow):
                raise InvalidInput(
                    f"{what} may not reach {host!r} ({mapped}): link-local and cloud metadata "
                    f"addresses are refused. {fix}",
                    field="url",
                )
        elif (
            (mapped.is_loopback or mapped.is_unspecified)
            and not _listed_address(mapped, allow)
            and not _listed_name(name, allow)
        ):
            raise InvalidInput(
                f"{what} may not reach {host!r} ({mapped}, this server's own host). {fix}",
                field="url",
            )
    if not allow:
        return
    if _listed_name(name, allow):
        return
    if resolved and all(_listed_address(a, allow) for a in resolved):
        return
    raise InvalidInput(
        f"{what} may not reach {host!r}: it is not on the outbound allow-list. {fix}",
        field="url",
    )

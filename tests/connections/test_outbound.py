"""Outbound URLs (webhooks, connections) pass the allow-list: link-local and cloud metadata
are refused by default, loopback only when listed, and a set list admits only its hosts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from steward import bootstrap
from steward.domain import outbound
from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.services import connections, lifecycle, webhooks
from steward.services.context import Context
from steward.settings import Settings
from steward.webhooks.deliver import deliver_now
from tests.trust.receiver import Receiver, receiver
from tests.trust.test_webhooks import _version

ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))


@pytest.mark.parametrize(
    ("host", "addresses", "allow"),
    [
        ("169.254.169.254", [], ()),
        ("169.254.169.254", [], ("169.254.0.0/16",)),  # a network is not the exact address
        ("metadata.google.internal", ["169.254.169.254"], ()),
        ("evil.example", ["169.254.169.254"], ()),  # a name pointing at the metadata service
        ("fd00:ec2::254", [], ()),
        ("[fe80::1]", [], ()),
        ("127.0.0.1", [], ()),
        ("localhost", ["127.0.0.1"], ()),
        ("::ffff:127.0.0.1", [], ()),
        ("0.0.0.0", [], ()),
        ("hooks.example.org", ["93.184.216.34"], ("hooks.example.com",)),
        ("10.1.2.3", [], ("192.168.0.0/16",)),
    ],
)
def test_refused_hosts(host: str, addresses: list[str], allow: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput, match="may not reach"):
        outbound.check(host, addresses, allow, "A webhook")


@pytest.mark.parametrize(
    ("host", "addresses", "allow"),
    [
        ("hooks.example.com", ["93.184.216.34"], ()),
        ("127.0.0.1", [], ("127.0.0.1",)),
        ("localhost", ["127.0.0.1", "::1"], ("localhost",)),
        ("169.254.169.254", [], ("169.254.169.254",)),  # the admin listed that exact address
        ("a.hooks.example.com", ["93.184.216.34"], ("*.example.com",)),
        ("10.1.2.3", [], ("10.0.0.0/8",)),
    ],
)
def test_allowed_hosts(host: str, addresses: list[str], allow: tuple[str, ...]) -> None:
    outbound.check(host, addresses, allow, "A webhook")


def test_the_setting_is_read_and_checked() -> None:
    env = {"STEWARD_OUTBOUND_ALLOW": "hooks.example.com, 10.0.0.0/8 *.corp.example"}
    found = Settings.from_env(env, home="/tmp/x").outbound_allow
    assert found == ("hooks.example.com", "10.0.0.0/8", "*.corp.example")
    with pytest.raises(InvalidInput, match="not a network"):
        outbound.parse_allow("10.0.0.0/99")


@pytest.fixture
def strict(settings: Settings) -> Iterator[Context]:
    """A deployment with the default (empty) allow-list."""
    context = bootstrap.build(replace(settings, outbound_allow=()), migrate=True)
    yield context
    context.uow.engine.dispose()


def test_webhooks_to_metadata_or_loopback_are_refused_by_default(strict: Context) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/admin",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::1]/",
    ):
        with pytest.raises(InvalidInput, match="may not reach"):
            webhooks.create_webhook(strict, ALICE, url=url, events=["*"])
    assert webhooks.list_webhooks(strict, ALICE) == []
    for location in ("postgresql://u@169.254.169.254/db", "postgresql://u@localhost/db"):
        with pytest.raises(InvalidInput, match="may not reach"):
            connections.create_connection(strict, ALICE, "pg", kind="postgresql", location=location)


def test_delivery_checks_the_url_again(settings: Settings, tmp_path: Path) -> None:
    """A webhook made while loopback was listed is not posted once the list drops it."""
    made = bootstrap.build(settings, migrate=True)
    rx: Receiver
    with receiver() as rx:
        webhooks.create_webhook(made, ALICE, url=rx.url, events=["*"])
        _version(made, ALICE, tmp_path)
        lifecycle.transition(made, ALICE, "credit", 1, "validation", "ready for review")
        made.uow.engine.dispose()
        later = bootstrap.build(replace(settings, outbound_allow=()), migrate=True)
        try:
            report = deliver_now(later)
            assert report.attempted >= 1 and report.delivered == 0
            assert rx.received == []
            (delivery, *_rest) = webhooks.list_deliveries(later, ALICE)
            assert "may not reach" in (delivery.last_error or "")
        finally:
            later.uow.engine.dispose()

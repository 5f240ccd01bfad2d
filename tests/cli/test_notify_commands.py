"""`steward notify list|read|prefs|test-email|status` on an embedded store, with the
worker creating the notifications and a real SMTP server (aiosmtpd) receiving mail."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import ENV, as_json, flat, ok, run
from tests.mailserver import Inbox, mail_server
from typer.testing import CliRunner

from steward.cli.main import app


def _with_mail(home: Path, port: int, *args: str, actor: str) -> str:
    env = {
        **ENV,
        "STEWARD_SMTP_HOST": "127.0.0.1",
        "STEWARD_SMTP_PORT": str(port),
        "STEWARD_SMTP_STARTTLS": "false",
        "STEWARD_SMTP_PASSWORD": "never-printed",
    }
    result = CliRunner().invoke(
        app, ["--home", str(home), "--as", actor, *args], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "never-printed" not in result.output
    return result.output


def test_notify_commands(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ok(home, "user", "create", "bob", "--role", "validator", "--email", "bob@example.org")
    ok(home, "model", "create", "credit", "--owner", "alice")
    ok(home, "finding", "open", "credit", "--title", "Proxy for age", "--severity", "high",
       "--owner", "bob")  # fmt: skip
    with mail_server() as (port, inbox):
        ok(home, "notify", "prefs", "--language", "zh-TW", actor="bob")
        _with_mail(home, port, "worker", "--once", actor="admin")
        [sent] = inbox.to("bob@example.org")
        assert "指派給您的發現事項" in str(sent["Subject"]) and "Proxy for age" in Inbox.text(sent)
        said = _with_mail(home, port, "notify", "test-email", actor="bob")
        assert "Test e-mail sent to bob@example.org." in said
        status = flat(_with_mail(home, port, "notify", "status", actor="admin"))
        assert "E-mail configured: yes; outbox: sent 1" in status

    listed = as_json(home, "notify", "list", actor="bob")
    assert [(n["kind"], n["subject"]) for n in listed] == [("finding", "Proxy for age")]
    assert "Finding assigned to you: credit — Proxy for age" in flat(
        ok(home, "notify", "list", "--unread", actor="bob").stdout
    )
    assert as_json(home, "notify", "list", actor="alice") == []  # bob's are bob's

    refused = run(home, "notify", "read", str(listed[0]["id"]), actor="alice")
    assert refused.exit_code == 1 and "You have no notification" in refused.output
    neither = run(home, "notify", "read", actor="bob")
    assert neither.exit_code == 1 and "--all" in neither.output
    assert (
        "1 notification(s) marked read." in ok(home, "notify", "read", "--all", actor="bob").stdout
    )
    assert as_json(home, "notify", "list", "--unread", actor="bob") == []

    prefs = as_json(home, "notify", "prefs", "--delivery", "digest", "--email-kinds",
                    "request,finding", actor="bob")  # fmt: skip
    assert prefs["delivery"] == "digest" and sorted(prefs["email_kinds"]) == ["finding", "request"]
    bad = run(home, "notify", "prefs", "--timezone", "Mars/Base", actor="bob")
    assert bad.exit_code == 1 and "not a time zone" in bad.output

"""The mail server settings: read from the environment (and so the config file), checked
with a message naming the variable and the fix, and the password kept out of reprs and
marked a secret for the config file's permission check."""

from __future__ import annotations

import pytest

from steward.settings import ConfigError, Settings, config_secrets


def test_smtp_settings_are_read_and_the_password_is_not_shown() -> None:
    settings = Settings.from_env(
        env={
            "STEWARD_HOME": "/tmp/steward-smtp",
            "STEWARD_SMTP_HOST": "mail.example.org",
            "STEWARD_SMTP_PORT": "2525",
            "STEWARD_SMTP_USER": "steward",
            "STEWARD_SMTP_PASSWORD": "pa55-secret",
            "STEWARD_SMTP_FROM": "steward@example.org",
            "STEWARD_SMTP_STARTTLS": "false",
            "STEWARD_LANGUAGE": "zh-tw",
            "STEWARD_PUBLIC_URL": "https://steward.example.org/",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user) == (
        "mail.example.org",
        2525,
        "steward",
    )
    assert settings.smtp_from == "steward@example.org" and not settings.smtp_starttls
    assert settings.language == "zh-TW" and settings.public_url == "https://steward.example.org"
    assert "pa55-secret" not in repr(settings)
    assert config_secrets({"STEWARD_SMTP_PASSWORD": "x"}) == ["smtp_password"]


def test_unset_means_no_mail_server_and_sensible_defaults() -> None:
    settings = Settings.from_env(env={"STEWARD_HOME": "/tmp/steward-smtp"})
    assert settings.smtp_host is None and settings.smtp_port == 587 and settings.smtp_starttls
    assert settings.language == "en"


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("STEWARD_SMTP_PORT", "smtp", "STEWARD_SMTP_PORT='smtp' is not a whole number"),
        ("STEWARD_SMTP_FROM", "steward", "is not an e-mail address"),
        ("STEWARD_SMTP_FROM", "a@b\r\nBcc: x@y", "is not an e-mail address"),
        ("STEWARD_SMTP_STARTTLS", "maybe", "must be true or false"),
        ("STEWARD_LANGUAGE", "fr", "must be 'en' or 'zh-TW'"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said.replace("(", r"\(")) as refused:
        Settings.from_env(env={"STEWARD_HOME": "/tmp/steward-smtp", variable: value})
    assert variable in str(refused.value)

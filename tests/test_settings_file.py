"""The config file (TOML, STEWARD_CONFIG or $STEWARD_HOME/steward.toml): the same keys as
the environment variables; environment > file > default; bad files fail naming the file,
the key and the fix; `steward doctor` names the file and refuses a readable secret."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from steward.cli.main import app
from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.services import doctor
from steward.services.context import Context
from steward.settings import ConfigError, Settings
from tests.cli.helpers import ENV, flat

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_no_file_reads_the_environment_exactly_as_before(tmp_path: Path) -> None:
    env = {"STEWARD_LOG_FORMAT": "json", "STEWARD_LOGIN_MAX_FAILURES": "9"}
    settings = Settings.from_env(env=env, home=tmp_path)
    assert settings.config_file is None
    assert settings == dataclasses.replace(
        Settings(
            home=tmp_path.resolve(),
            database_url=f"sqlite:///{tmp_path.resolve() / 'steward.db'}",
            artifacts_url=str(tmp_path.resolve() / "artifacts"),
        ),
        log_format="json",
        login_max_failures=9,
    )


def test_environment_beats_file_beats_default(tmp_path: Path) -> None:
    write(
        tmp_path / "steward.toml",
        'log_format = "json"\n'
        'oidc_issuer = "https://id.example.com"\n'
        "login_max_failures = 7\n"
        "oidc_link_existing = true\n"
        'outbound_allow = ["hooks.example.com", "10.0.0.0/8"]\n'
        'database_url = "postgresql://steward@db.internal/steward"\n',
    )
    from_file = Settings.from_env(env={}, home=tmp_path)
    assert from_file.config_file == tmp_path.resolve() / "steward.toml"
    assert from_file.log_format == "json"
    assert from_file.oidc_issuer == "https://id.example.com"
    assert from_file.login_max_failures == 7
    assert from_file.oidc_link_existing is True
    assert from_file.outbound_allow == ("hooks.example.com", "10.0.0.0/8")
    # parsed by the same code as the variable: the driver is normalised
    assert from_file.database_url == "postgresql+psycopg://steward@db.internal/steward"
    assert from_file.worker == "internal"  # not in the file: the default

    env = {"STEWARD_LOG_FORMAT": "text", "STEWARD_LOGIN_MAX_FAILURES": "3"}
    both = Settings.from_env(env=env, home=tmp_path)
    assert (both.log_format, both.login_max_failures) == ("text", 3)
    assert both.oidc_issuer == "https://id.example.com"  # the file still fills the rest


def test_steward_config_names_the_file_and_may_set_home(tmp_path: Path) -> None:
    home = tmp_path / "var-lib-steward"
    config = write(tmp_path / "etc" / "steward.toml", f'home = "{home}"\nworker = "external"\n')
    settings = Settings.from_env(env={"STEWARD_CONFIG": str(config)})
    assert settings.config_file == config.resolve()
    assert settings.home == home.resolve() and settings.worker == "external"
    # a file in the home that STEWARD_CONFIG replaces is not read
    write(home / "steward.toml", 'worker = "sidecar"\n')
    assert Settings.from_env(env={"STEWARD_CONFIG": str(config)}).worker == "external"
    # --home (or STEWARD_HOME) beats the file's home
    assert Settings.from_env(env={"STEWARD_CONFIG": str(config)}, home=tmp_path).home == (
        tmp_path.resolve()
    )


def test_every_key_is_a_setting_read_from_the_variable_of_its_name(tmp_path: Path) -> None:
    # The file's keys are Settings' fields: each must be read from STEWARD_<FIELD>, or a
    # key would be accepted and silently ignored.
    asked: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: typing.Any = None) -> typing.Any:
            asked.add(key)
            return super().get(key, default)

    Settings.from_env(env=Recording(STEWARD_HOME=str(tmp_path)), home=None)
    fields = {f.name for f in dataclasses.fields(Settings)} - {"config_file"}
    assert {f"STEWARD_{name.upper()}" for name in fields} <= asked


def test_a_missing_default_file_is_fine_a_missing_named_file_is_an_error(
    tmp_path: Path,
) -> None:
    assert Settings.from_env(env={}, home=tmp_path).config_file is None
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env={"STEWARD_CONFIG": str(missing)}, home=tmp_path)
    assert str(missing) in err.value.detail
    assert "create it, or unset STEWARD_CONFIG" in err.value.detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'log_fromat = "json"\n',
            ["unknown key `log_fromat` (did you mean `log_format`?)", "docs/deployment.md"],
        ),
        (
            'STEWARD_WORKER = "external"\n',
            ["unknown key `STEWARD_WORKER` (did you mean `worker`?)", "lower case"],
        ),
        ('url = "https://steward.example.com"\n', ["unknown key `url`:", "docs/deployment"]),
        ('[oidc]\nissuer = "https://id.example.com"\n', ["has a table [oidc]: keys are flat"]),
        ("log_format = 1\n", ["sets `log_format` to 1: it must be a string in quotes"]),
        ('login_max_failures = "many"\n', ["STEWARD_LOGIN_MAX_FAILURES='many' is not a whole"]),
        ("login_max_failures = 2.5\n", ["`login_max_failures` to 2.5: it must be a whole number"]),
        ("oidc_link_existing = 1\n", ["`oidc_link_existing` to 1: it must be true or false"]),
        ("outbound_allow = [1, 2]\n", ["`outbound_allow` to [1, 2]: it must be a list of strings"]),
        ('log_format = "xml"\n', ["must be 'text' or 'json' (set as `log_format` in"]),
        ('timezone = "Mars/Base"\n', ["is not a time zone", "(set as `timezone` in"]),
        ('outbound_allow = "10.0.0.0/99"\n', ["is not a network", "`outbound_allow` in"]),
        ('worker = "external"\nlog_format "json"\n', ["is not valid TOML", "line 2"]),
        ('home = "/elsewhere"\n', ["sets `home`, but it was found through STEWARD_HOME"]),
    ],
)
def test_a_bad_file_names_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    config = write(tmp_path / "steward.toml", text)
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env={}, home=tmp_path)
    assert str(config) in err.value.detail and err.value.file == config
    for part in expected:
        assert part in err.value.detail
    assert isinstance(err.value, InvalidInput) and isinstance(err.value, ValueError)


def test_an_environment_variable_overriding_a_bad_value_hides_it(tmp_path: Path) -> None:
    write(tmp_path / "steward.toml", 'log_format = "xml"\n')
    assert Settings.from_env(env={"STEWARD_LOG_FORMAT": "json"}, home=tmp_path).log_format == (
        "json"
    )
    # and a bad variable is blamed on the variable, not on the file
    write(tmp_path / "steward.toml", 'log_format = "json"\n')
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env={"STEWARD_WORKER": "sidecar"}, home=tmp_path)
    assert err.value.file is None and "steward.toml" not in err.value.detail


def test_the_documented_example_file_is_accepted(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "deployment.md").read_text()
    section = doc.split("## Configuration file", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = write(tmp_path / "steward.toml", example)
    settings = Settings.from_env(env={"STEWARD_CONFIG": str(config)})
    assert settings.home == Path("/var/lib/steward")
    assert settings.database_url.startswith("postgresql+psycopg://steward:")
    assert settings.outbound_allow == ("hooks.example.com", "*.corp.example", "10.0.0.0/8")
    assert settings.sso_enabled and settings.oidc_client_secret == "change-me"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "mail.example.com",
        587,
        True,
    )
    assert settings.smtp_password == "change-me" and "smtp_password=" not in repr(settings)


# --- steward doctor ---------------------------------------------------------------------


@pytest.fixture
def with_file(ctx: Context, tmp_path: Path) -> Iterator[tuple[Context, Path]]:
    config = write(tmp_path / "etc" / "steward.toml", 'log_format = "json"\n', 0o644)
    yield dataclasses.replace(ctx, settings=ctx.settings.with_(config_file=config)), config


def _checks(ctx: Context) -> dict[str, typing.Any]:
    return {c.name: c for c in doctor.check(ctx, ADMIN).checks}


def test_doctor_names_the_file_read(ctx: Context, with_file: tuple[Context, Path]) -> None:
    assert "no config file" in _checks(ctx)["configuration"].detail
    assert "config file" not in _checks(ctx)  # no file: the checks are as before
    file_ctx, config = with_file
    checks = _checks(file_ctx)
    assert f"config file {config}" in checks["configuration"].detail
    assert checks["config file"].ok  # readable by all, but no secret in it
    assert "holds no secret" in checks["config file"].detail


@pytest.mark.parametrize(
    ("secret", "named"),
    [
        ('oidc_client_secret = "s3cret"', "oidc_client_secret"),
        ('metrics_token = "t0ken"', "metrics_token"),
        ('database_url = "postgresql://steward:pw@db/steward"', "database_url (its password)"),
    ],
)
def test_doctor_fails_a_secret_readable_by_others(
    with_file: tuple[Context, Path], secret: str, named: str
) -> None:
    file_ctx, config = with_file
    config.write_text(secret + "\n")
    for mode in (0o640, 0o604):
        config.chmod(mode)
        check = _checks(file_ctx)["config file"]
        assert not check.ok and named in check.detail and f"{mode:04o}" in check.detail
        assert check.fix == f"chmod 600 {config} (owned by the service account)"
    config.chmod(0o600)
    assert _checks(file_ctx)["config file"].ok
    # a URL without a password is no secret
    config.write_text('database_url = "postgresql://steward@db/steward"\n')
    config.chmod(0o644)
    assert _checks(file_ctx)["config file"].ok


def test_doctor_reports_a_file_broken_since_start_up(with_file: tuple[Context, Path]) -> None:
    file_ctx, config = with_file
    config.write_text("log_format = \n")
    check = _checks(file_ctx)["config file"]
    assert not check.ok and "not valid TOML" in check.detail


# --- the command line ---------------------------------------------------------------------


def cli(home: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home), *args], env={**ENV, **env})


def test_the_cli_exits_1_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    config = write(tmp_path / "steward.toml", 'worker = "sidecar"\n')
    result = cli(tmp_path, "model", "list")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    err = flat(result.stderr)
    assert err.startswith("Error: STEWARD_WORKER='sidecar' must be 'internal'")
    assert f"(set as `worker` in {config}: correct it there)" in err
    assert "Traceback" not in result.output
    # a bad environment variable too, now (it used to be a traceback)
    config.unlink()
    result = cli(tmp_path, "model", "list", STEWARD_LOG_FORMAT="xml")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert flat(result.stderr) == "Error: STEWARD_LOG_FORMAT='xml' must be 'text' or 'json'"


def test_the_server_refuses_to_start(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = cli(tmp_path, "server", STEWARD_CONFIG=str(missing))
    assert result.exit_code == 1
    assert f"STEWARD_CONFIG='{missing}' names no file" in flat(result.stderr)
    assert not (tmp_path / "steward.db").exists()  # nothing created


def test_cli_doctor_reports_the_file_and_its_bad_key(tmp_path: Path) -> None:
    config = write(tmp_path / "steward.toml", "log_format = 1\n")
    result = cli(tmp_path, "doctor", "--json")
    assert result.exit_code == 1
    (check,) = json.loads(result.stdout)["checks"]
    assert check["name"] == "configuration" and not check["ok"]
    assert "`log_format` to 1" in check["detail"]
    assert check["fix"] == f"correct the config file {config}"

    config.write_text('log_format = "json"\nmetrics_token = "t0ken"\n')
    config.chmod(0o644)
    assert cli(tmp_path, "init").exit_code == 0
    result = cli(tmp_path, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 1 and not checks["config file"]["ok"]
    assert f"config file {config}" in checks["configuration"]["detail"]
    config.chmod(0o600)
    result = cli(tmp_path, "doctor")
    assert result.exit_code == 0, result.output
    assert f"config file ok {config} read, mode 0600, holds metrics_token" in flat(result.stdout)

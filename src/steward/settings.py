"""Settings read from the environment and a config file, once, at the composition root.

The config file (TOML: ``STEWARD_CONFIG``, else ``$STEWARD_HOME/steward.toml`` when it
exists) holds the same settings as the environment, each key the variable's name
without ``STEWARD_`` in lower case. Its values are spelled as the environment would
spell them and merged under the environment, so each setting is parsed in one place
and an environment variable always wins over the file.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from steward.domain.errors import InvalidInput
from steward.domain.outbound import parse_allow

DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024**3
DEFAULT_SANDBOX_MEMORY_BYTES = 4 * 1024**3
DEFAULT_SANDBOX_CPU_SECONDS = 600

CONFIG_VARIABLE = "STEWARD_CONFIG"
CONFIG_NAME = "steward.toml"  # looked for in STEWARD_HOME when STEWARD_CONFIG is unset
# Config-file keys whose value is a secret; a URL key is one when it carries a password.
SECRET_KEYS = ("oidc_client_secret", "metrics_token", "smtp_password")
URL_KEYS = ("database_url", "artifacts_url")


class ConfigError(InvalidInput, ValueError):
    """A setting or config file that does not parse. The CLI prints it and exits 1; the
    server refuses to start. ``file`` is the config file blamed, if any."""

    def __init__(self, detail: str, file: Path | None = None) -> None:
        super().__init__(detail)
        self.file = file


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    artifacts_url: str
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    allow_anonymous_read: bool = False
    # Largest non-upload request body (JSON, forms) the API reads (STEWARD_MAX_JSON_BYTES).
    max_json_bytes: int = 8 * 1024 * 1024
    # PEM EC private key Steward signs approved versions with (STEWARD_SIGNING_KEY);
    # default <home>/keys/signing-key.pem, created on first use.
    signing_key: Path | None = None
    # Fernet key that seals webhook secrets at rest (STEWARD_SECRETS_KEY);
    # default <home>/keys/secrets.key, created on first use.
    secrets_key: Path | None = None
    # Key file that authenticates journal events (STEWARD_AUDIT_KEY); default
    # <home>/keys/audit.key, created by `steward init` (see steward.trust.auditkey).
    audit_key: Path | None = None
    # A YAML file extending Steward's compliance evidence mapping (STEWARD_COMPLIANCE_MAPPING).
    compliance_mapping: Path | None = None
    # Hosts webhooks and data connections may reach (STEWARD_OUTBOUND_ALLOW, comma-separated
    # names, *.suffixes, addresses, networks). Empty: any host but loopback, link-local and
    # cloud metadata (see steward.domain.outbound).
    outbound_allow: tuple[str, ...] = ()
    # Formats that run code when loaded (pickle, joblib, MLflow pyfunc, skops types a caller
    # trusts) are refused on the server unless the administrator sets
    # STEWARD_ALLOW_UNTRUSTED_FORMATS; they are then loaded only in a sandboxed subprocess
    # bounded by these limits (STEWARD_SANDBOX_MEMORY_BYTES, STEWARD_SANDBOX_CPU_SECONDS).
    allow_untrusted_formats: bool = False
    sandbox_memory_bytes: int = DEFAULT_SANDBOX_MEMORY_BYTES
    sandbox_cpu_seconds: int = DEFAULT_SANDBOX_CPU_SECONDS
    # Sign-in throttling (STEWARD_LOGIN_*): failures per account and per client within a
    # window lock that key out, for LOCKOUT seconds doubling up to LOCKOUT_MAX.
    login_max_failures: int = 5
    login_client_max_failures: int = 20
    login_window_seconds: int = 900
    login_lockout_seconds: int = 60
    login_lockout_max_seconds: int = 3600
    # `steward doctor --fix` removes unreferenced artifact objects older than this
    # (STEWARD_ARTIFACT_GC_GRACE_HOURS): younger ones may belong to uploads in flight.
    artifact_gc_grace_hours: int = 24
    # Bearer token Prometheus sends to /metrics (STEWARD_METRICS_TOKEN); unset: /metrics is
    # open, so restrict it at the proxy.
    metrics_token: str | None = None
    # Log lines as "text" or one JSON object per line (STEWARD_LOG_FORMAT).
    log_format: str = "text"
    # Audit checkpoints (signed tree heads of the journal, see docs/audit.md):
    # the Ed25519 key that signs them (STEWARD_LOG_KEY; default <home>/keys/log-key.pem,
    # created on first use), the log's origin line (STEWARD_CHECKPOINT_ORIGIN), where they
    # are published (STEWARD_CHECKPOINT_PUBLISH: comma-separated folders and s3:// prefixes;
    # default <home>/checkpoints), and when the scheduler signs one by itself: after
    # STEWARD_CHECKPOINT_EVERY_EVENTS new events or STEWARD_CHECKPOINT_EVERY_MINUTES
    # minutes with new events, whichever comes first.
    log_key: Path | None = None
    checkpoint_origin: str = "steward.local/audit"
    checkpoint_publish: tuple[str, ...] | None = None
    checkpoint_every_events: int = 1000
    checkpoint_every_minutes: int = 60
    # Who runs the scheduler and the webhook outbox (STEWARD_WORKER): "internal" (default),
    # the API processes deliver webhooks themselves; "external", a `steward worker` process
    # does, so the API processes start no delivery loop and `steward doctor` checks that
    # worker's heartbeat.
    worker: str = "internal"
    # Single sign-on through an OpenID Connect provider (docs/sso.md): the issuer URL
    # (STEWARD_OIDC_ISSUER; unset: no SSO), this Steward's client at the provider
    # (STEWARD_OIDC_CLIENT_ID / _CLIENT_SECRET), the scopes asked for, the claim that names
    # the user (STEWARD_OIDC_USERNAME_CLAIM), the mapping rules from claims to roles and teams
    # (STEWARD_OIDC_RULES, see steward.domain.sso), the callback URL the provider knows
    # (STEWARD_OIDC_REDIRECT_URI; default: this server's /sso/callback as the browser
    # reached it), the button's label, and whether a first sign-in may take over a local
    # user of the same name (STEWARD_OIDC_LINK_EXISTING).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)  # never in logs
    oidc_scopes: str = "openid profile email groups"
    oidc_username_claim: str = "preferred_username"
    oidc_rules: str = ""
    oidc_redirect_uri: str | None = None
    oidc_name: str = "single sign-on"
    oidc_link_existing: bool = False
    # Signing out of Steward also ends the provider's session (OpenID Connect RP-Initiated
    # Logout) when the provider offers an end_session_endpoint (STEWARD_OIDC_SINGLE_LOGOUT).
    oidc_single_logout: bool = True
    # Password sign-in (web form, `steward user login`, POST /api/v1/auth/login); switch it
    # off (STEWARD_LOCAL_PASSWORDS=false) when everyone signs in through the provider.
    local_passwords: bool = True
    # The MLflow tracking server that `/mlflow` registrations fetch model files from
    # (STEWARD_MLFLOW_TRACKING_URI): a data scientist's `mlflow.register_model("runs:/…")`
    # names a run there, and the server reads from no other place (docs/mlflow.md).
    mlflow_tracking_uri: str | None = None
    # Aliases that mean "in production" (STEWARD_MLFLOW_PRODUCTION_ALIASES): setting one
    # through `/mlflow` is a production move, so Steward's gate decides it.
    mlflow_production_aliases: tuple[str, ...] = ("champion",)
    # Write Steward's decisions back into that MLflow registry (STEWARD_MLFLOW_WRITE_BACK,
    # default on): `steward.*` version tags and the production aliases, from the worker's
    # mlflow_sync job, never inside a user's request.
    mlflow_write_back: bool = True
    # Put back a production alias or stage moved in MLflow behind Steward's back
    # (STEWARD_MLFLOW_REVERT_ALIASES; default off: the critical finding is opened either way).
    mlflow_revert_aliases: bool = False
    # The shared secret of the MLflow registry webhook that asks for a sync
    # (STEWARD_MLFLOW_WEBHOOK_SECRET; unset: POST /mlflow/webhooks refuses every delivery).
    mlflow_webhook_secret: str | None = field(default=None, repr=False)  # never in logs
    # Where people reach this Steward's web UI (STEWARD_PUBLIC_URL, e.g.
    # https://steward.example.com): the base of links Steward writes elsewhere, such as the
    # `steward.url` tag on MLflow versions and the links in notification e-mails. Unset: no
    # MLflow link is written and e-mails name the page's path.
    public_url: str | None = None
    # The organisation's time zone (STEWARD_TIMEZONE, an IANA name such as Asia/Taipei;
    # default the server's own): the web UI shows every time in it, with the zone named.
    # The journal and the API keep UTC.
    timezone: str = ""
    # The mail server notifications are sent through (docs/deployment.md, E-mail
    # notifications): STEWARD_SMTP_HOST (unset: notifications stay in the web UI and the
    # API), STEWARD_SMTP_PORT, STEWARD_SMTP_USER / _PASSWORD (sign-in, when the server asks
    # for one), STEWARD_SMTP_FROM (the sender address) and STEWARD_SMTP_STARTTLS (upgrade
    # the connection before signing in; on by default).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)  # never in logs
    smtp_from: str = "steward@localhost"
    smtp_starttls: bool = True
    # The organisation's language for e-mails to people who chose none (STEWARD_LANGUAGE:
    # en or zh-TW).
    language: str = "en"
    # The config file these settings were read from (None: environment and defaults only).
    config_file: Path | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, home: str | Path | None = None
    ) -> Settings:
        """The settings: environment variable, else config file, else default. Raises
        :class:`ConfigError` naming the variable or the file's key and the fix."""
        env = os.environ if env is None else env
        path, values = read_config_file(env, home) or (None, {})
        try:
            return cls._parse({**values, **env} if values else env, home, path)
        except (ValueError, InvalidInput) as exc:
            # Leave the environment's own messages as they were; name the file's key.
            detail = exc.detail if isinstance(exc, InvalidInput) else str(exc)
            blamed = [v for v in values if v not in env and re.search(rf"\b{v}\b", detail)]
            if not blamed:
                raise ConfigError(detail) from None
            raise ConfigError(
                f"{detail} (set as `{_key(blamed[0])}` in {path}: correct it there)", path
            ) from None

    @classmethod
    def _parse(
        cls, env: Mapping[str, str], home: str | Path | None, config_file: Path | None
    ) -> Settings:
        root = _root(env, home)
        database_url = env.get("STEWARD_DATABASE_URL") or f"sqlite:///{root / 'steward.db'}"
        artifacts_url = env.get("STEWARD_ARTIFACTS_URL") or str(root / "artifacts")
        return cls(
            home=root,
            config_file=config_file,
            database_url=normalise_database_url(database_url),
            artifacts_url=artifacts_url,
            max_artifact_bytes=_whole(env, "STEWARD_MAX_ARTIFACT_BYTES")
            if env.get("STEWARD_MAX_ARTIFACT_BYTES")
            else DEFAULT_MAX_ARTIFACT_BYTES,
            allow_anonymous_read=env.get("STEWARD_ALLOW_ANONYMOUS_READ", "").lower()
            in {"1", "true", "yes"},
            signing_key=Path(env["STEWARD_SIGNING_KEY"]).expanduser().resolve()
            if env.get("STEWARD_SIGNING_KEY")
            else None,
            secrets_key=Path(env["STEWARD_SECRETS_KEY"]).expanduser().resolve()
            if env.get("STEWARD_SECRETS_KEY")
            else None,
            audit_key=Path(env["STEWARD_AUDIT_KEY"]).expanduser().resolve()
            if env.get("STEWARD_AUDIT_KEY")
            else None,
            compliance_mapping=Path(env["STEWARD_COMPLIANCE_MAPPING"]).expanduser().resolve()
            if env.get("STEWARD_COMPLIANCE_MAPPING")
            else None,
            outbound_allow=parse_allow(env.get("STEWARD_OUTBOUND_ALLOW")),
            metrics_token=env.get("STEWARD_METRICS_TOKEN") or None,
            log_format=_log_format(env.get("STEWARD_LOG_FORMAT")),
            worker=_worker(env.get("STEWARD_WORKER")),
            mlflow_tracking_uri=env.get("STEWARD_MLFLOW_TRACKING_URI") or None,
            mlflow_production_aliases=tuple(
                a.strip().lower()
                for a in env["STEWARD_MLFLOW_PRODUCTION_ALIASES"].split(",")
                if a.strip()
            )
            if env.get("STEWARD_MLFLOW_PRODUCTION_ALIASES") is not None
            else ("champion",),
            mlflow_write_back=_flag(env, "STEWARD_MLFLOW_WRITE_BACK", True),
            mlflow_revert_aliases=_flag(env, "STEWARD_MLFLOW_REVERT_ALIASES", False),
            mlflow_webhook_secret=env.get("STEWARD_MLFLOW_WEBHOOK_SECRET") or None,
            public_url=_public_url(env.get("STEWARD_PUBLIC_URL")),
            timezone=_timezone(env.get("STEWARD_TIMEZONE")),
            smtp_host=(env.get("STEWARD_SMTP_HOST") or "").strip() or None,
            smtp_user=env.get("STEWARD_SMTP_USER") or None,
            smtp_password=env.get("STEWARD_SMTP_PASSWORD") or None,
            smtp_from=_address(env.get("STEWARD_SMTP_FROM")),
            smtp_starttls=_flag(env, "STEWARD_SMTP_STARTTLS", True),
            language=_language(env.get("STEWARD_LANGUAGE")),
            log_key=Path(env["STEWARD_LOG_KEY"]).expanduser().resolve()
            if env.get("STEWARD_LOG_KEY")
            else None,
            checkpoint_origin=env.get("STEWARD_CHECKPOINT_ORIGIN") or "steward.local/audit",
            checkpoint_publish=tuple(
                p.strip() for p in env["STEWARD_CHECKPOINT_PUBLISH"].split(",") if p.strip()
            )
            if env.get("STEWARD_CHECKPOINT_PUBLISH") is not None
            else None,
            oidc_issuer=(env.get("STEWARD_OIDC_ISSUER") or "").strip() or None,
            oidc_client_id=env.get("STEWARD_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("STEWARD_OIDC_CLIENT_SECRET") or None,
            oidc_scopes=env.get("STEWARD_OIDC_SCOPES") or "openid profile email groups",
            oidc_username_claim=env.get("STEWARD_OIDC_USERNAME_CLAIM") or "preferred_username",
            oidc_rules=env.get("STEWARD_OIDC_RULES") or "",
            oidc_redirect_uri=env.get("STEWARD_OIDC_REDIRECT_URI") or None,
            oidc_name=env.get("STEWARD_OIDC_NAME") or "single sign-on",
            oidc_link_existing=_flag(env, "STEWARD_OIDC_LINK_EXISTING", False),
            oidc_single_logout=_flag(env, "STEWARD_OIDC_SINGLE_LOGOUT", True),
            local_passwords=_flag(env, "STEWARD_LOCAL_PASSWORDS", True),
            allow_untrusted_formats=env.get("STEWARD_ALLOW_UNTRUSTED_FORMATS", "").lower()
            in {"1", "true", "yes"},
            sandbox_memory_bytes=_whole(env, "STEWARD_SANDBOX_MEMORY_BYTES")
            or DEFAULT_SANDBOX_MEMORY_BYTES,
            sandbox_cpu_seconds=_whole(env, "STEWARD_SANDBOX_CPU_SECONDS")
            or DEFAULT_SANDBOX_CPU_SECONDS,
            **_ints(
                env,
                max_json_bytes="STEWARD_MAX_JSON_BYTES",
                artifact_gc_grace_hours="STEWARD_ARTIFACT_GC_GRACE_HOURS",
                login_max_failures="STEWARD_LOGIN_MAX_FAILURES",
                login_client_max_failures="STEWARD_LOGIN_CLIENT_MAX_FAILURES",
                login_window_seconds="STEWARD_LOGIN_WINDOW_SECONDS",
                login_lockout_seconds="STEWARD_LOGIN_LOCKOUT_SECONDS",
                login_lockout_max_seconds="STEWARD_LOGIN_LOCKOUT_MAX_SECONDS",
                checkpoint_every_events="STEWARD_CHECKPOINT_EVERY_EVENTS",
                checkpoint_every_minutes="STEWARD_CHECKPOINT_EVERY_MINUTES",
                smtp_port="STEWARD_SMTP_PORT",
            ),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key or self.home / "keys" / "signing-key.pem"

    @property
    def log_key_path(self) -> Path:
        return self.log_key or self.home / "keys" / "log-key.pem"

    @property
    def checkpoint_destinations(self) -> tuple[str, ...]:
        """Where new checkpoints are published (empty: nowhere, set explicitly)."""
        if self.checkpoint_publish is None:
            return (str(self.home / "checkpoints"),)
        return self.checkpoint_publish

    @property
    def secrets_key_path(self) -> Path:
        return self.secrets_key or self.home / "keys" / "secrets.key"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key or self.home / "keys" / "audit.key"

    @property
    def spool_dir(self) -> Path:
        """Where uploads are spooled while they are checked (cleaned at start-up)."""
        return self.home / "spool"

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> tzinfo:
        """The organisation's time zone: the configured one, else the server's."""
        return ZoneInfo(self.timezone) if self.timezone else server_zone()


@cache
def server_zone() -> tzinfo:
    """The server's own time zone, by its IANA name where the system says it."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    with suppress(OSError):
        link = str(Path("/etc/localtime").readlink())
        candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or UTC


def _timezone(value: str | None) -> str:
    name = (value or "").strip()
    if name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"STEWARD_TIMEZONE={value!r} is not a time zone; use an IANA name such as "
                "Asia/Taipei or Europe/London"
            ) from None
    return name


def _language(value: str | None) -> str:
    wanted = (value or "").strip()
    for known in ("en", "zh-TW"):
        if wanted.lower() == known.lower():
            return known
    if wanted:
        raise ValueError(f"STEWARD_LANGUAGE={value!r} must be 'en' or 'zh-TW'")
    return "en"


def _address(value: str | None) -> str:
    address = (value or "").strip() or "steward@localhost"
    if "@" not in address or any(c in address for c in "\r\n"):
        raise ValueError(
            f"STEWARD_SMTP_FROM={value!r} is not an e-mail address; use one such as "
            "steward@example.org"
        )
    return address


def _log_format(value: str | None) -> str:
    fmt = (value or "text").strip().lower()
    if fmt not in {"text", "json"}:
        raise ValueError(f"STEWARD_LOG_FORMAT={value!r} must be 'text' or 'json'")
    return fmt


def _worker(value: str | None) -> str:
    mode = (value or "internal").strip().lower()
    if mode not in {"internal", "external"}:
        raise ValueError(
            f"STEWARD_WORKER={value!r} must be 'internal' (the API processes deliver webhooks) "
            "or 'external' (a `steward worker` process does)"
        )
    return mode


def _public_url(value: str | None) -> str | None:
    text = (value or "").strip().rstrip("/")
    if not text:
        return None
    if not re.match(r"^https?://[^/\s]+", text):
        raise ValueError(
            f"STEWARD_PUBLIC_URL={value!r} must be the http(s) address people open Steward at, "
            "for example https://steward.example.com"
        )
    return text


def _flag(env: Mapping[str, str], var: str, default: bool) -> bool:
    value = (env.get(var) or "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{var}={env[var]!r} must be true or false")


def _whole(env: Mapping[str, str], var: str) -> int:
    """An integer setting; 0 when unset (empty)."""
    value = env.get(var)
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{var}={value!r} is not a whole number") from None


def _ints(env: Mapping[str, str], **names: str) -> dict[str, int]:
    """The integer settings present in the environment (absent ones keep their default)."""
    found = {}
    for field_name, var in names.items():
        if env.get(var):
            found[field_name] = _whole(env, var)
            if found[field_name] < 1:
                raise ValueError(f"{var} must be at least 1")
    return found


def _root(env: Mapping[str, str], home: str | Path | None) -> Path:
    """STEWARD_HOME: the --home option, else the variable, else ./.steward."""
    return Path(home or env.get("STEWARD_HOME") or ".steward").expanduser().resolve()


def _key(var: str) -> str:
    """The config-file key of an environment variable: STEWARD_LOG_FORMAT -> log_format."""
    return var.removeprefix("STEWARD_").lower()


@cache
def _file_keys() -> dict[str, Any]:
    """Every key a config file may hold, with its type: the settings' own fields (each
    is read from the variable of the same name; tests/test_settings_file.py holds that)."""
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name != "config_file"}


def _kinds(hint: Any) -> set[Any]:
    """The types a field accepts: ``Path | None`` -> {Path, NoneType}."""
    return set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}


def _spelled(value: object, hint: Any) -> str | None:
    """A TOML value as the environment would spell it; None when its type does not fit."""
    kinds = _kinds(hint)
    if isinstance(value, str):
        return value  # parsed like the environment variable's text
    if bool in kinds and isinstance(value, bool):
        return "true" if value else "false"
    if int in kinds and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    listed = any(typing.get_origin(k) is tuple for k in kinds)
    if listed and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return None


def _expected(hint: Any) -> str:
    kinds = _kinds(hint)
    if bool in kinds:
        return "true or false"
    if int in kinds:
        return "a whole number"
    if any(typing.get_origin(k) is tuple for k in kinds):
        return 'a list of strings (["a", "b"]) or one comma-separated string'
    return "a string in quotes"


def config_file_path(env: Mapping[str, str], home: str | Path | None = None) -> Path | None:
    """The config file to read: STEWARD_CONFIG (which must exist), else
    ``$STEWARD_HOME/steward.toml`` when it exists, else None."""
    named = env.get(CONFIG_VARIABLE)
    if named:
        path = Path(named).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(
                f"{CONFIG_VARIABLE}={named!r} names no file: create it, or unset "
                f"{CONFIG_VARIABLE} to use $STEWARD_HOME/{CONFIG_NAME} when it exists",
                path,
            )
        return path
    default = _root(env, home) / CONFIG_NAME
    return default if default.is_file() else None


def read_config_file(
    env: Mapping[str, str], home: str | Path | None = None
) -> tuple[Path, dict[str, str]] | None:
    """The config file and its settings keyed by environment variable, spelled as the
    environment spells them; None when there is no file to read."""
    path = config_file_path(env, home)
    if path is None:
        return None
    return path, load_config_file(path, home_allowed=bool(env.get(CONFIG_VARIABLE)))


def load_config_file(path: Path, *, home_allowed: bool = True) -> dict[str, str]:
    """One config file's settings, keyed by environment variable (STEWARD_LOG_FORMAT)."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file {path}: {exc.strerror}; give the service account "
            f"read access (chown it, chmod 600 {path})",
            path,
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the config file {path} is not valid TOML: {exc}. Correct that line; values "
            'are written key = "text", key = 5 or key = true',
            path,
        ) from None
    known = _file_keys()
    values = {}
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(
                f"the config file {path} has a table [{key}]: keys are flat and come before "
                'any [table] line (oidc_issuer = "...", not [oidc] issuer = "..."); see '
                "docs/deployment.md, Configuration file",
                path,
            )
        if key not in known:
            spelled = key.lower().removeprefix("steward_")
            close = [spelled] if spelled in known else difflib.get_close_matches(key, known, 1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise ConfigError(
                f"the config file {path} has an unknown key `{key}`{hint}: keys are the "
                "settings' environment variable names without STEWARD_, in lower case "
                "(docs/deployment.md, Configuration file)",
                path,
            )
        if key == "home" and not home_allowed:
            raise ConfigError(
                f"the config file {path} sets `home`, but it was found through STEWARD_HOME: "
                f"remove the key, or move the file elsewhere and set {CONFIG_VARIABLE} to it",
                path,
            )
        text = _spelled(value, known[key])
        if text is None:
            raise ConfigError(
                f"the config file {path} sets `{key}` to {value!r}: it must be "
                f"{_expected(known[key])}",
                path,
            )
        values[f"STEWARD_{key.upper()}"] = text
    return values


def config_secrets(values: Mapping[str, str]) -> list[str]:
    """The keys of a config file's settings (as :func:`load_config_file` returns them)
    that hold a secret: the file must then be readable by the service account only."""
    found = [k for k in SECRET_KEYS if values.get(f"STEWARD_{k.upper()}")]
    for key in URL_KEYS:
        with suppress(ValueError):
            if urlsplit(values.get(f"STEWARD_{key.upper()}", "")).password:
                found.append(f"{key} (its password)")
    return found


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the user chose."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_actor(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    user = env.get("STEWARD_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"

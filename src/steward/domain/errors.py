"""Steward's error vocabulary.

Every face maps these the same way: the REST API turns them into RFC 9457
problem+json bodies with ``status``, the CLI prints ``detail`` and exits
non-zero, and the remote SDK raises the same class again from the problem
body, so a script behaves identically against the embedded store and a
server.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StewardError(Exception):
    """Base class: a message meant for the person who made the request."""

    code: ClassVar[str] = "steward-error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        # The RFC 9457 members come last so an extra member can never overwrite them
        # (a request's "status": "applied" once replaced the numeric HTTP status).
        return {
            **self.extra,
            "type": f"https://steward.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }


class InvalidInput(StewardError):
    code = "invalid-input"
    status = 422
    title = "Invalid input"


class NotFound(StewardError):
    code = "not-found"
    status = 404
    title = "Not found"


class AlreadyExists(StewardError):
    code = "already-exists"
    status = 409
    title = "Already exists"


class IllegalTransition(StewardError):
    code = "illegal-transition"
    status = 409
    title = "Transition not allowed"


class Conflict(StewardError):
    code = "conflict"
    status = 409
    title = "Conflict"


class ArtifactError(StewardError):
    code = "artifact-error"
    status = 422
    title = "Artifact problem"


class ArtifactTooLarge(ArtifactError):
    code = "artifact-too-large"
    status = 413
    title = "Artifact too large"


class IntegrityError(StewardError):
    """Stored bytes no longer match their recorded hash."""

    code = "integrity-error"
    status = 500
    title = "Integrity check failed"


class Unauthenticated(StewardError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class Forbidden(StewardError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class TooManyRequests(StewardError):
    """Refused for now; ``retry_after`` (seconds) says when to try again."""

    code = "too-many-requests"
    status = 429
    title = "Too many requests"


class SchemaOutOfDate(StewardError):
    code = "schema-out-of-date"
    status = 503
    title = "Database schema out of date"


class MissingExtra(StewardError):
    """This installation lacks an optional part of Steward (a pip "extra")."""

    code = "missing-extra"
    status = 501
    title = "Not installed"


class ProviderError(StewardError):
    """The single sign-on provider could not be reached or answered something unusable."""

    code = "sso-provider-error"
    status = 502
    title = "Single sign-on provider error"


class SignInPending(StewardError):
    """A device sign-in the person has not finished at the provider yet: ask again."""

    code = "sso-authorization-pending"
    status = 428
    title = "Sign-in not finished"


class LogoutRefused(InvalidInput):
    """A back-channel logout token Steward did not accept (OpenID Connect Back-Channel
    Logout 1.0, section 2.8: the relying party answers 400)."""

    code = "sso-logout-refused"
    status = 400
    title = "Logout token refused"


class SourceUnavailable(StewardError):
    """A system Steward reads from (an MLflow tracking server) did not answer as expected."""

    code = "source-unavailable"
    status = 502
    title = "Source unavailable"


ERRORS_BY_CODE: dict[str, type[StewardError]] = {
    cls.code: cls
    for cls in (
        StewardError,
        InvalidInput,
        NotFound,
        AlreadyExists,
        IllegalTransition,
        Conflict,
        ArtifactError,
        ArtifactTooLarge,
        IntegrityError,
        Unauthenticated,
        Forbidden,
        TooManyRequests,
        SchemaOutOfDate,
        MissingExtra,
        ProviderError,
        SignInPending,
        SourceUnavailable,
    )
}

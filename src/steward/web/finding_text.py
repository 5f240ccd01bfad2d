"""The findings Steward writes, worded in the page's language.

Services store a generated finding's English title and description with a message key and
its parameters (:mod:`steward.domain.finding_messages`). English pages show the stored
English; other languages build the sentences here from the key and parameters, keeping
parts that only exist in English (a check's own explanation, a deploy verdict's reason) as
they are. A finding a person wrote, or one whose parameters do not cover a sentence (an old
finding backfilled from its title only), is shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from steward.domain import finding_messages as fm
from steward.web.i18n import DEFAULT, N_, Formatter


class FindingText:
    """``title(finding)`` and ``description(finding)`` for anything with ``title``,
    ``message_key`` and ``message_params`` (a finding, a dataset finding, a work item)."""

    def __init__(
        self, gettext: Callable[[str], str], fmt: Formatter, translate: bool, code: str
    ) -> None:
        self._ = gettext
        self.fmt = fmt
        self.translate = translate
        self.code = code
        # Sentences follow each other with a space, except in Chinese and Japanese.
        self.gap = "" if fmt.locale.language in ("zh", "ja") else " "

    def title(self, finding: Any) -> str:
        stored = str(finding.title)
        built = self._build(finding, self._title)
        return stored if built is None else built

    def description(self, finding: Any) -> str:
        stored = str(getattr(finding, "description", "") or "")
        built = self._build(finding, self._description)
        return stored if built is None else built

    def _build(
        self, finding: Any, how: Callable[[str, Mapping[str, Any]], str | None]
    ) -> str | None:
        key = getattr(finding, "message_key", None)
        params = getattr(finding, "message_params", None)
        if not self.translate or key not in fm.KEYS or not isinstance(params, Mapping):
            return None
        try:
            return how(str(key), params)
        except (KeyError, TypeError, ValueError):
            return None  # parameters that do not cover the sentence: the stored English

    def _num(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(value)
        return self.fmt.number(float(value), 4)

    def _title(self, key: str, p: Mapping[str, Any]) -> str | None:
        # Titles are worded in the domain, where the notification e-mails word them too.
        return fm.title(key, dict(p), self.code)

    def _description(self, key: str, p: Mapping[str, Any]) -> str | None:
        _ = self._
        if key == fm.CHECK_FAILED:
            parts = [_(N_("%(check)s did not pass.")) % {"check": p["check"]}]
            if p.get("value") is not None:
                parts.append(_(N_("Value: %(value)s.")) % {"value": self._num(p["value"])})
            if p.get("op") is not None and p.get("limit") is not None:
                parts.append(
                    _(N_("Threshold: %(op)s %(limit)s."))
                    % {"op": p["op"], "limit": self._num(p["limit"])}
                )
            if p.get("message"):
                parts.append(_(N_("The check's explanation: %(text)s")) % {"text": p["message"]})
            return self.gap.join(parts)
        if key == fm.MONITOR_ALERT:
            facts = {
                "monitor": p["monitor"],
                "id": p["monitor_id"],
                "metric": p["metric"],
                "value": self._num(p["value"]),
                "op": p["op"],
                "threshold": self._num(p["threshold"]),
                "streak": int(p["streak"]),
                "rule": p["rule"],
            }
            if p.get("column") is None:
                return (
                    _(
                        N_(
                            "Monitor %(monitor)s (%(id)s): %(metric)s = %(value)s on the dataset "
                            "(%(op)s %(threshold)s) for %(streak)s run(s) in a row [rule %(rule)s]."
                        )
                    )
                    % facts
                )
            return _(
                N_(
                    "Monitor %(monitor)s (%(id)s): %(metric)s = %(value)s on column %(column)s "
                    "(%(op)s %(threshold)s) for %(streak)s run(s) in a row [rule %(rule)s]."
                )
            ) % {**facts, "column": p["column"]}
        if key == fm.DEPLOY_UNAPPROVED:
            return _(
                N_(
                    "%(reporter)s reported that %(environment)s loaded %(model)s artifact "
                    "%(sha256)s: %(reason)s. Deploy the approved version (the model page shows "
                    "which version is in production) or take this one through the gates."
                )
            ) % {k: p[k] for k in ("reporter", "environment", "model", "sha256", "reason")}
        if key == fm.MLFLOW_MOVED:
            parts = [
                _(
                    N_(
                        "In MLflow (%(source)s), %(what)s of %(name)s points at version "
                        "%(version)s, which Steward has not put in production."
                    )
                )
                % {
                    "source": p["source"],
                    "what": p["what"],
                    "name": p["mlflow_name"],
                    "version": p["mlflow_version"],
                }
            ]
            if p.get("steward_version") is not None:
                parts.append(
                    _(N_("It is version %(version)s of %(model)s in Steward."))
                    % {"version": p["steward_version"], "model": p["model"]}
                )
            if p.get("production") is not None:
                parts.append(
                    _(N_("Steward's production version is MLflow version %(version)s."))
                    % {"version": p["production"]}
                )
            else:
                parts.append(_(N_("Steward has no version of it in production.")))
            parts.append(
                _(
                    N_(
                        "Production moves go through Steward's gates: move it back in MLflow, "
                        "or request the move to production on the version's model page."
                    )
                )
            )
            return self.gap.join(parts)
        return None  # the description is what a person wrote (a review's notes, a recall)


def finding_text(gettext: Callable[[str], str], fmt: Formatter, code: str) -> FindingText:
    """The helper pages of locale ``code`` use; English pages show what is stored."""
    return FindingText(gettext, fmt, code != DEFAULT, code)

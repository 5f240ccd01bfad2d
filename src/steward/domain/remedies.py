"""What helps, worded for the face a person uses.

Rules word their refusals and gate reasons once, in English, naming the ``steward`` command
that fixes them (the CLI, API and journal carry that text verbatim). A person in the
browser has no terminal: the web shows the same sentence with each command that has a
browser equivalent replaced by the page or button that does the same. This table is the one
place that knows which page that is, so the two wordings cannot drift apart.
"""

from __future__ import annotations

import re

# "group command" -> the page or button that does it in the web UI.
BROWSER: dict[str, str] = {
    "approvals approve": "the Approve button of the request (Approvals page)",
    "approvals apply": "the Apply button of the open request on the model page",
    "approvals withdraw": "the Withdraw button of the open request on the model page",
    "approvals inbox": "the Approvals page",
    "approvals list": "the Approvals page",
    "gate check": "the gate checklist on the model page",
    "review complete": "the Complete review form on the Reviews page",
    "review list": "the Reviews page",
    "review due": "the Reviews page",
    "finding update": "the finding's form on the Findings page",
    "finding list": "the Findings page",
    "risk assess": "the Assess risk page of the model",
    "risk questionnaire": "the Assess risk page of the model",
    "risk history": "the Risk assessment section of the model page",
    "model create": "the Register a model page",
    "model list": "the Inventory page",
    "version list": "the Versions table on the model page",
    "version show": "the Versions table on the model page",
    "waiver grant": "the Grant a waiver form on the model page (a risk officer)",
    "waiver list": "the lifecycle timeline on the model page",
    "monitor alerts": "the Monitoring history page of the model",
    "monitor history": "the Monitoring history page of the model",
    "monitor list": "the Monitoring history page of the model",
    "policy show": "the policy page linked from the gate checklist",
    "policy list": "the Administration page (Policies)",
    "policy load": "the Administration page (Policies)",
    "user grant": "the Administration page (Users)",
    "user create": "the Administration page (Users)",
    "user show": "the Administration page (Users)",
    "user list": "the Administration page (Users)",
    "team update": "the Administration page (Teams)",
    "team create": "the Administration page (Teams)",
    "team list": "the Administration page (Teams)",
    "team show": "the Administration page (Teams)",
    "connection create": "the Administration page (Connections)",
    "connection list": "the Administration page (Connections)",
    "token create": "the Tokens page",
    "token list": "the Tokens page",
    "audit checkpoint": "the Sign a checkpoint button on the Audit page",
    "audit verify": "the Verify button on the Audit page",
    "evidence export": "the evidence pack button on the model page",
}
# [`] rather than a bare backtick: the hint checker would read the pattern as a command.
_COMMAND = re.compile(r"[`]steward ([a-z-]+)(?: ([a-z-]+))?[^`]*`")


def for_browser(text: str) -> str:
    """``text`` with every command that has a browser equivalent named by its page instead.

    Commands without one (e.g. running a validation suite from a terminal) stay as written:
    they are still the way to do it.
    """

    def swap(found: re.Match[str]) -> str:
        key = f"{found.group(1)} {found.group(2) or ''}".strip()
        return BROWSER.get(key, found.group(0))

    return _COMMAND.sub(swap, text)

"""Rebuild the web UI's catalogs: extract messages from the templates and code
(``messages.pot``), write the English and zh-TW ``.po`` files (zh-TW from
:mod:`steward.web.locale.zh_tw`) and compile both to ``.mo``. Fails listing any
message without a Traditional Chinese translation.

    python -m steward.web.locale.build
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from steward.web.locale.zh_tw import ZH_TW

HERE = Path(__file__).parent
WEB = HERE.parent


def main() -> int:
    pot = HERE / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(WEB / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "_",
            "--no-location",
            "--sort-output",
            "--no-wrap",
            "--project",
            "Steward",
            "-o",
            str(pot),
            str(WEB),
        ],
        check=True,
        capture_output=True,
    )
    missing = []
    for code, table in (("en", {}), ("zh_TW", ZH_TW)):
        with pot.open("rb") as fh:
            catalog = read_po(fh, locale=code)
        for message in catalog:
            if not message.id:
                continue
            if code == "zh_TW":
                if message.id not in table:
                    missing.append(str(message.id))
                message.string = table.get(str(message.id), "")
        out = HERE / code / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        with (out / "messages.po").open("wb") as fh:
            write_po(fh, catalog, width=0, omit_header=False)
        with (out / "messages.mo").open("wb") as fh:
            write_mo(fh, catalog)
    if missing:
        sys.stderr.write("No zh-TW translation for:\n  " + "\n  ".join(missing) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

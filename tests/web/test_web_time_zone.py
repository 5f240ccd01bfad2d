"""Times on web pages are in the organisation's zone with the zone shown; the setting
refuses a zone that does not exist, naming the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from steward.settings import Settings
from steward.web.i18n import Formatter

AT = datetime(2026, 12, 7, 4, 53, tzinfo=UTC)  # 12:53 in Taipei


def test_a_time_is_shown_in_the_organisations_zone_with_its_offset() -> None:
    taipei = ZoneInfo("Asia/Taipei")
    shown = Formatter("en", taipei).datetime(AT)
    assert shown.startswith("Dec 7, 2026, 12:53:00") and shown.endswith("PM GMT+08:00")
    shown = Formatter("zh-TW", taipei).datetime(AT)
    assert "中午12:53" in shown and "GMT+08:00" in shown
    assert Formatter("en", ZoneInfo("UTC")).datetime(AT).endswith("AM UTC")
    naive = AT.replace(tzinfo=None)  # the store's UTC without tzinfo
    assert Formatter("en", taipei).datetime(naive) == Formatter("en", taipei).datetime(AT)


def test_the_zone_setting_defaults_to_the_servers_and_refuses_unknown_zones(
    tmp_path: Path,
) -> None:
    chosen = Settings.from_env({"STEWARD_TIMEZONE": "Asia/Taipei"}, home=tmp_path)
    assert chosen.zone == ZoneInfo("Asia/Taipei")
    assert Settings.from_env({}, home=tmp_path).zone is not None
    with pytest.raises(ValueError, match="IANA name such as Asia/Taipei"):
        Settings.from_env({"STEWARD_TIMEZONE": "Mars/Olympus"}, home=tmp_path)

"""Traditional Chinese for the model card's compliance coverage section (its labels,
columns, captions and status words), merged into :data:`steward.web.locale.zh_tw.ZH_TW`.
Words the coverage page already translates ("current", "stale", "applies", ...) keep the
coverage page's Chinese, so the card and the page say the same."""

ZH_TW_CARD: dict[str, str] = {
    "Coverage computed": "涵蓋情形計算時間",
    "Coverage per framework": "各框架的涵蓋情形",
    "Obligations and the dates they apply from": "義務及其適用日期",
    "Coverage of %(framework)s": "%(framework)s 的涵蓋情形",
    "framework": "框架",
    "controls": "控制項",
    "% current": "有效比例 (%)",
    "ref": "條文",
    "obligation": "義務",
    "applies from": "適用日期",
    "control": "控制項",
    "why": "依據",
    "not_applicable": "不適用",
}

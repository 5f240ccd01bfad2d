# ruff: noqa: E501, RUF001  (Traditional Chinese uses full-width punctuation)
"""Traditional Chinese for the paged "My work" page, merged into
:data:`steward.web.locale.zh_tw.ZH_TW`."""

ZH_TW_WORK: dict[str, str] = {
    "What waits for you, by kind, soonest due first; each list shows %(n)s at a time.": "依類別列出等待您處理的事項，最早到期者在前；每個清單一次顯示 %(n)s 項。",
    "%(first)s–%(last)s of %(total)s": "第 %(first)s–%(last)s 項，共 %(total)s 項",
    "Previous page": "上一頁",
    "%(n)s more": "還有 %(n)s 項",
}

# ruff: noqa: E501, RUF001  (Traditional Chinese uses full-width punctuation)
"""Traditional Chinese wording of the findings Steward writes itself (``web.finding_text``)
and of the risk questionnaire page, merged into ``zh_tw.ZH_TW``."""

ZH_TW_FINDINGS: dict[str, str] = {
    "%(check)s did not pass.": "%(check)s 未通過。",
    "Value: %(value)s.": "數值：%(value)s。",
    "Threshold: %(op)s %(limit)s.": "門檻：%(op)s %(limit)s。",
    "The check's explanation: %(text)s": "檢查本身的說明（英文）：%(text)s",
    "Monitor %(monitor)s (%(id)s): %(metric)s = %(value)s on the dataset (%(op)s %(threshold)s) for %(streak)s run(s) in a row [rule %(rule)s].": "監控 %(monitor)s（%(id)s）：資料集的 %(metric)s = %(value)s（門檻 %(op)s %(threshold)s），已連續 %(streak)s 次執行超出 [規則 %(rule)s]。",
    "Monitor %(monitor)s (%(id)s): %(metric)s = %(value)s on column %(column)s (%(op)s %(threshold)s) for %(streak)s run(s) in a row [rule %(rule)s].": "監控 %(monitor)s（%(id)s）：欄位 %(column)s 的 %(metric)s = %(value)s（門檻 %(op)s %(threshold)s），已連續 %(streak)s 次執行超出 [規則 %(rule)s]。",
    "%(reporter)s reported that %(environment)s loaded %(model)s artifact %(sha256)s: %(reason)s. Deploy the approved version (the model page shows which version is in production) or take this one through the gates.": "%(reporter)s 回報 %(environment)s 載入了 %(model)s 的模型檔 %(sha256)s：%(reason)s。請部署已核准的版本（模型頁面顯示正式環境中的版本），或讓此模型檔通過關卡。",
    "In MLflow (%(source)s), %(what)s of %(name)s points at version %(version)s, which Steward has not put in production.": "在 MLflow（%(source)s）中，%(name)s 的 %(what)s 指向版本 %(version)s，但 Steward 並未將該版本投入正式環境。",
    "It is version %(version)s of %(model)s in Steward.": "它是 Steward 中 %(model)s 的版本 %(version)s。",
    "Steward's production version is MLflow version %(version)s.": "Steward 的正式環境版本是 MLflow 版本 %(version)s。",
    "Steward has no version of it in production.": "Steward 沒有此模型的任何版本在正式環境中。",
    "Production moves go through Steward's gates: move it back in MLflow, or request the move to production on the version's model page.": "移至正式環境須通過 Steward 的關卡：請在 MLflow 中移回，或在該版本的模型頁面申請移至正式環境。",
    "a practice prohibited by Art. 5": "第 5 條禁止的做法",
    "a high-risk system under Art. 6(2) and Annex III": "第 6(2) 條及附件 III 所稱的高風險系統",
    "transparency obligations under Art. 50": "第 50 條的透明度義務",
    "no specific obligations": "無特定義務",
    "%(what)s (+%(points)s points).": "%(what)s（+%(points)s 分）。",
    "%(what)s: the tier is at least %(tier)s.": "%(what)s：風險等級至少為%(tier)s。",
    "%(answer)s (%(ref)s): %(meaning)s.": "%(answer)s（%(ref)s）：%(meaning)s。",
    "Tier %(tier)s: the total score %(total)s reaches its threshold (%(at)s).": "風險等級%(tier)s：總分 %(total)s 達到該等級的門檻（%(at)s）。",
    "Tier low: the total score %(total)s is below the medium threshold (%(at)s) and no answer requires more.": "風險等級低：總分 %(total)s 低於中等級門檻（%(at)s），且沒有任何答案要求更高等級。",
    "Tier %(tier)s: required by %(answers)s (the total score %(total)s alone would give %(by_score)s).": "風險等級%(tier)s：由 %(answers)s 所要求（僅依總分 %(total)s 會是%(by_score)s）。",
    "EU AI Act category %(category)s: %(meaning)s (%(answers)s).": "歐盟人工智慧法分類%(category)s：%(meaning)s（%(answers)s）。",
    "EU AI Act category minimal: no answer places the system under Art. 5 (prohibited), Art. 6 and Annex III (high-risk) or Art. 50 (transparency).": "歐盟人工智慧法分類極低：沒有任何答案使此系統落入第 5 條（禁止）、第 6 條及附件 III（高風險）或第 50 條（透明度）。",
}

"""Compliance: control catalogs, evidence mapping, coverage, dashboard, model cards, packs.

- ``catalogs`` — the shipped framework catalogs (NIST AI RMF 1.0, ISO/IEC 42001 Annex A,
  EU AI Act, SR 26-2, SR 11-7, Taiwan FSC) read from ``sources/``.
- ``mapping`` — which Steward evidence kinds satisfy each control (``mapping.yaml``,
  extensible by a user file), and the crosswalk between frameworks that follows from it.
- ``coverage`` — per-model and organisation coverage from a snapshot of live evidence.
- ``dashboard`` — the organisation dashboard dataset.
- ``modelcard``, ``evidence`` — model cards and signed evidence packs.

The modules here are pure (no database, no faces); ``steward.services.compliance``
gathers the live facts and calls them.
"""

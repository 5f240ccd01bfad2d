"""Artifact storage (content-addressed, via fsspec) and model serialisation."""

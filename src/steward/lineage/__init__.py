"""Lineage captured on the client: code (git), data fingerprints and profiles, signatures."""

"""Signing and offline verification of approved versions (OpenSSF model_signing + manifest)."""

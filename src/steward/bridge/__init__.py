"""Adapters to other registries Steward governs (MLflow); the rules are in the domain."""

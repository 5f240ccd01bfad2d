"""Use cases. Each mutating function is one transaction that also writes its audit event."""

"""The pure domain core: entities, lifecycle rules, audit chain and errors.

Nothing in this package touches a database, the network or the file system,
so every rule here is unit-testable in microseconds.
"""

"""The Python SDK: one client, an embedded or a remote backend."""

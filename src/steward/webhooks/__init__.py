"""Webhook delivery over HTTP: the sender and the background worker."""

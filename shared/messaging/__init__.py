"""Outbox, relay, inbox and consumer runner: never lose an event, never apply one twice."""

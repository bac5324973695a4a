"""Ops over a service's dead letters: list them, and replay one once its cause is fixed."""

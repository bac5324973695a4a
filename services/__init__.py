"""Composition root: knows every service and the infrastructure they need."""

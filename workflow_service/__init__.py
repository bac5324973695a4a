"""Workflow (liên thông): cases, routes, steps, deadlines, transfers between agencies, results."""

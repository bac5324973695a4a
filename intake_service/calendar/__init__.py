"""The working-day calendar: the stored year, ops' edits, and the appointment a desk gives."""

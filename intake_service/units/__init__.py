"""Administrative units and the agencies of each unit, retired but never deleted."""

"""Code every Một Cửa service shares: settings, database, messaging, errors, auth, observability."""

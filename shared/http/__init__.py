"""HTTP plumbing every service shares: the commit point of a request, preconditions."""

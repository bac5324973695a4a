"""Public lookup (tra cứu hồ sơ): a dossier's status for whoever holds its slip."""

"""Documents of a dossier (thành phần hồ sơ): upload, reference, reuse, digitise, download."""

"""Bank credits: the signed credit notices of VietQR transfers and the daily statements."""

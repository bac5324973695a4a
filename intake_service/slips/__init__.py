"""The slips a dossier's applicant is given (Circular 01/2018/TT-VPCP)."""

"""Exceptions (ngoại lệ): money a finance officer has to look at and decide on."""

"""A sandbox that plays the payment world we do not run: a VNPay 2.1.0 gateway and a bank.

It is not one of our services and shares no code with them: it speaks the external protocols
from its own implementation, so a mistake in ours cannot be mirrored here and pass unnoticed.
State lives in memory; a restart forgets every transaction, as a fresh sandbox would.
"""

"""Public-IP discovery: STUN, HTTPS and DNS sources agreed on by quorum. No Home Assistant imports."""

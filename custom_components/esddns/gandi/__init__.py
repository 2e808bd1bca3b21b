"""Gandi LiveDNS v5 client. No Home Assistant imports."""

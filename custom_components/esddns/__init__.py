"""ESDDNS: keep Gandi LiveDNS records in sync with the home's public IP address."""

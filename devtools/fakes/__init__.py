"""Loopback fakes of the things ESDDNS talks to: STUN, HTTP and DNS sources, Gandi LiveDNS."""

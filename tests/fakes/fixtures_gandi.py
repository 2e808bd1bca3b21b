"""Pytest fixtures for the gandi fakes (filled by the module owner)."""

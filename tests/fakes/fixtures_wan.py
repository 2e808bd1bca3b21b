"""Pytest fixtures for the wan fakes (filled by the module owner)."""

"""The postal service."""

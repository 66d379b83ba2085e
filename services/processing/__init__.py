"""The processing service."""

"""Helpers shared by the integration tests (processes, sockspan runner, span checks)."""

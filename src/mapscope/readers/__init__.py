"""Readers turn bytes (files, Go source, tool output) into typed records; they never print."""

"""Analyses are pure functions over records: no input reading, no printing."""

"""Writes for journeys: the mirror (mirror.py) and its sync from Mint (sync.py)."""

"""Unit tier: the project's own pieces alone, no database, no process (seconds)."""

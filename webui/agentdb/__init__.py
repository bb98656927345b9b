"""The agent's ``state.db``: its schema, the read-only reader, the web UI's writer, the home layout.

A session source: the wings above read it, it imports nothing of theirs.
"""

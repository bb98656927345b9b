"""Claude Code's JSONL transcripts as a read-only session source, beside the agent's state.db.

Reads ``<claude home>/projects/<encoded project path>/<session uuid>.jsonl`` and never writes
anywhere under the Claude home. ``source.ClaudeCodeSource`` is the public face.
"""

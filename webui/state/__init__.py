"""What the web UI owns: ``webui.db`` (overrides, tombstones, journal, stream registry) and
``settings.json``."""

"""The live runtime: chat turns, agent backends, change events and the file watcher."""

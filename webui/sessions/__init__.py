"""The list core: the query and its key, stamps, the list rules, the overlay and the cache."""

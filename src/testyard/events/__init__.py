"""Live events: the bus they travel on (in-process, or Redis pub/sub across processes)
and the store that keeps the ones a reconnecting client must not miss."""

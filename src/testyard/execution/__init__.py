"""Running runs: the queue, the executors, the pytest subprocess driver and the
ingestion of its events. No test code ever runs inside a testyard process."""

"""Run reports: what a person reads after a run, made from what the database holds.
``content`` reads a run in short transactions; ``html`` renders it as one HTML file."""

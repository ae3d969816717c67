"""The schedule: APScheduler wiring, plan triggers, retention and staged polling.
Plans are the source of truth; APScheduler's job store follows them."""

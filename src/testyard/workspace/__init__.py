"""Writing a runnable pytest project to disk: a run's workspace, the export zip, and
reading an existing pytest project back in."""

"""The database: engine and sessions, SQLAlchemy models, Alembic migrations.
Nothing here knows about HTTP; services use the models through a session."""

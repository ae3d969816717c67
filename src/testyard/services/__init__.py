"""Business rules of testyard, one module per aggregate.
Functions take a SQLAlchemy session and never commit: the caller owns the transaction."""

"""testyard: a self-hosted platform for pytest test automation."""

__version__ = "0.1.0"

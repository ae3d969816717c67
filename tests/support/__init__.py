"""Helpers the test suite shares: real services it starts, and API factories."""

"""Code loaded into users' pytest runs: the JSON event reporter and the test-side helpers.

Everything here imports only pytest and the standard library (it runs in users' projects).
"""

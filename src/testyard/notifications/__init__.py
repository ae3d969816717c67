"""Notifications: what a message about a finished run says, one sender class per channel
kind (behind ``Sender``, built in ``factory``), and the service that delivers them."""

"""Benchmarks of the scheduler tick and the delivery path over the in-memory store (`make bench`)."""

"""Writes of hardship relief, one function per use case, by subdomain."""

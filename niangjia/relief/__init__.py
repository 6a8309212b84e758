"""Hardship relief (解困脱困): household files from application to exit, household plans,
assistance paid from funds with a ledger, annual review and relapse monitoring."""

"""Step-up re-authentication before sensitive changes."""

"""Password + one-time code, recovery codes: the non-biometric way in."""

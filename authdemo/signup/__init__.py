"""Sign-up: choose a username, then choose how to sign in (the passkey opt-in)."""

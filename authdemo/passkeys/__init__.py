"""Passkeys: WebAuthn registration and authentication ceremonies."""

"""Consent to passkey sign-in: notices, the ledger, opt-in, withdrawal, kill switches."""

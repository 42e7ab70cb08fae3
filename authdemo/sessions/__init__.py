"""Signed-in sessions: server-side records, the Flask-Login glue, sign-in and sign-out."""

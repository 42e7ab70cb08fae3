"""Data-subject rights: the privacy dashboard, export, erasure, retention, operator CLI."""

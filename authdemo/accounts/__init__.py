"""Accounts: usernames and the sign-up flow's entry page."""

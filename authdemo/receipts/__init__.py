"""Signed consent receipts people keep: issue 19 item 4, decision 0027."""

"""Schedule write paths: policies, overrides and links, each with a one-time code and its audit
entry in the same transaction (clean.py checks the input before a code is spent)."""

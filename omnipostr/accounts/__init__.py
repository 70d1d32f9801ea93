"""Accounts: users, workspaces, members, sessions, sign-up, sign-in, reset, social sign-in."""

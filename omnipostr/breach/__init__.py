"""Breach response (BRC-1): the register of personal data breaches, the accounts each one
affected, and the notice sent to exactly those people, once each.

A capability of its own, beside the audit log rather than inside it: it reads accounts and
workspaces and sends mail, while accounts write to the audit log, so keeping it in ``audit``
would make accounts and audit import each other. It records its own steps in the audit log.
"""

"""The audit log: security and privacy events, append-only, each kept ``audit_keep_days``."""

"""Shared mechanisms: envelope and errors, paging, time formats, trees, audit columns, security, action log."""

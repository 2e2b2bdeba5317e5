"""Shared mechanisms: envelope and errors, paging, time formats, trees, audit columns, security, action log."""
from pcloud.core import messages  # noqa: F401 - marshmallow speaks Chinese before any field is made

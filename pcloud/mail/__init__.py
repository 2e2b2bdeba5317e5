"""站内信 (in-site mail): messages from one user to another, read state, the top bar's unread count."""

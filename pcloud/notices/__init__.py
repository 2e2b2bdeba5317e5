"""通知公告 (notices): drafts published to all, to roles or to departments (with their subtrees), read receipts."""

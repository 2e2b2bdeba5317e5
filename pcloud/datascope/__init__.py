"""数据权限 (data scope): whose users a caller reaches, from the caller's roles (`service.scope_of`)."""

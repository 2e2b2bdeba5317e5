"""数据权限 (data scope): whose users a principal reaches, from the principal's roles (`service.scope_of`)."""

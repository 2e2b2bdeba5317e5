"""参数设置: run-time settings, typed and validated, the environment as default."""

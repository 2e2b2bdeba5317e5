"""字典管理: dictionary types and their items (labels and badge colours of coded values)."""

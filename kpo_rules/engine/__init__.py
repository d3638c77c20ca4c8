"""The rule engine: compiled rule files evaluated over the facts of one engagement."""

"""Country plugin: United States; a kpo-rules plugin loaded through an entry point."""

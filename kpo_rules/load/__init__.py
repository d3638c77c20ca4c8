"""YAML files to documents: parsing with positions, then schema validation."""

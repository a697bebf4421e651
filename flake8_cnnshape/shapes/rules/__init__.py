"""The shape rules, by topic. Each module lists its layers (LAYERS) and its
functional ops and tensor methods (FUNCTIONS, METHODS) as specs; catalog.py
merges them."""

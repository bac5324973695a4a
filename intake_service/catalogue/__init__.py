"""The procedure catalogue: versioned procedures, read publicly, changed by ops."""

"""The rows of tests/permission_matrix.py, one module per area of the console."""

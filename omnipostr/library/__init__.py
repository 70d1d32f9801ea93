"""The library: every generation and its variants, to search, edit, reuse and delete."""

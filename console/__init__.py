"""Textual screens (agent console, wallboard, QA) and the `hotline` command line."""

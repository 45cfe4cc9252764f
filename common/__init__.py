"""The lowest layer: helpers every package may use; imports nothing of the project."""

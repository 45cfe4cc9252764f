"""The agent console's widgets, one feature each, each with its own CSS and messages."""

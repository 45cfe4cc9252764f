"""Non-visual parts of the console: the line (calls), the seat, the call session."""

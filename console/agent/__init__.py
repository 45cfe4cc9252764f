"""The agent console: one seat, from a ringing call to a saved ticket."""

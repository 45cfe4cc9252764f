"""The supervisor's wallboard: the floor's seats, today's figures, alerts."""

"""The agent's 回访 list: tickets the units have replied to, to call the citizen back."""

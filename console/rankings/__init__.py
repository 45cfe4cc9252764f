"""Units ranked, as a screen: each unit's rates with a bar, and the week's hot spots."""

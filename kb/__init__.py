"""Knowledge-base search for on-the-spot answers (直办) and category suggestion."""

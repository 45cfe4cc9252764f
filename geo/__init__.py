"""Spoken-address matching against the 一标三实 standard-address gazetteer."""

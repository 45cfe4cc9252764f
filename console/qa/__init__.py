"""The quality inspector's screen: replay a sampled call and score it."""

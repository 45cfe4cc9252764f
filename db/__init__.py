"""Persistence: PostgreSQL (embedded by default), migrations, ticket store and ticket rules."""

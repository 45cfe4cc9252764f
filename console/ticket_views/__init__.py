"""Ticket screens the apps share: a step's prompt and a ticket's whole history."""

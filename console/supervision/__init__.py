"""The supervisor's 督办 view: returns to review, extensions to decide, overdue tickets, 督办."""

"""Quality inspection without UI: sampling rules, automatic pre-checks, scorecards, reports."""

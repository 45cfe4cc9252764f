"""Quality inspection: sampling, automatic pre-checks, scorecards, privacy, reports."""

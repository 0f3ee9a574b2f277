"""Research on the theses: event studies with Newey-West t-statistics."""

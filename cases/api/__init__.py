"""HTTP API for cases: list, intake, detail and one endpoint per action (DESIGN.md §5)."""

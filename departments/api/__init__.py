"""HTTP API for units, staff, case types, authority rules, the calendar and routing previews (DESIGN.md §5)."""

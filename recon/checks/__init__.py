"""Pure checks on loaded, matched data: each takes frames and typed rules and returns findings."""

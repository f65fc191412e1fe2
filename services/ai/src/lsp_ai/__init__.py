"""LSP AI service: per-location Dapr actors."""

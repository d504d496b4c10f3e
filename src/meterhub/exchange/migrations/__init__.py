"""SQL migrations of the exchange stage (numbers 0300–0309)."""

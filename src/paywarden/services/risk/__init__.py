"""Risk screening services: sanctions (:mod:`.sanctions`), circuit breakers (:mod:`.breakers`)."""

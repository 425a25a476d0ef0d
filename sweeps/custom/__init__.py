"""Models written against the public API (superjax.Model): the tutorial model lives here."""

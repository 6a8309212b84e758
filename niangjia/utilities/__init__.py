"""Code that serves no single domain. No models live here."""

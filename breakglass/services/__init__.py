"""Break-glass services: every state change is one here (`do_*`, keyword-only `actor`)."""

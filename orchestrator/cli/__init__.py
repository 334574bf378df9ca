"""privacyctl: the operator's command line (stack, services, demo, requests)."""

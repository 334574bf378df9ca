"""HTTP connector: SaaS tools described by pack data (templates, pagination, paced client, secrets)."""

"""Policy packs (tenants as data) and the pure rules derived from them: plans and deadlines."""

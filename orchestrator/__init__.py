"""Control plane of the privacy-request orchestrator: intake, workflows, policy, API, CLI."""

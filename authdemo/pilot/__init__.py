"""The passkey rollout: runtime switches, the pilot cohort, guardrail signals,
complaints, automatic rollback and the pilot report (issue 20; docs/rollout.md;
docs/decisions/0022-pilot-and-guardrails.md)."""

"""Plumbing shared by the webstack agents: configuration, logging, metrics, status files, AWS clients."""

"""Campaigns: triggered flows, broadcasts and order-status notices, sent exactly once through an outbox."""

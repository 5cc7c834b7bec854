"""Seeding: read seed_data/<env>/<Model>.jsonl|.json, validate every item, write what differs."""

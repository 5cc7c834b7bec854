"""Verification: do the target's live tables match what amplify/ declares? Same code for every target."""

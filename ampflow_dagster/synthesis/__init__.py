"""Desired state from Amplify's own synthesis of amplify/ (run with Node, read from cdk.out)."""

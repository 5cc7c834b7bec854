"""The generated client: amplify_outputs.json and GraphQL statements per environment."""

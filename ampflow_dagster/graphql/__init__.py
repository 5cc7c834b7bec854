"""The local GraphQL endpoint's Node side: the launcher and the pinned AppSync simulator install."""

"""Adopting ampflow in an existing Amplify Gen 2 app: the files `ampflow init` writes, never over the app's own."""

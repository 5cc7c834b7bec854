"""One module per `ampflow` verb: each parses its options, calls the runner or library code, and prints."""

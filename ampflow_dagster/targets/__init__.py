"""Deploy targets: where an environment's backend lives and how it is made to match amplify/."""

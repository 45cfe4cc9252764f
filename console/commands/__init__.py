"""`hotline` subcommands, one module per feature area; each has `register(subparsers)`."""

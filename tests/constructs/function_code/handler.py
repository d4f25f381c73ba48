"""A stand-in handler: the construct tests deploy no code of their own."""


def lambda_handler(event: object, context: object) -> None:
    """Do nothing."""

class CustomException(Exception):
    """An exception whose str() is empty: it never passes its message to Exception."""

    def __init__(self):
        self.message = "CustomException message"


def handler(event, context):  # the raise stays on line 9: the recorded stack trace names it
    raise CustomException()

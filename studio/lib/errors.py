"""The one exception services raise for a request they refuse."""


class ServiceError(Exception):
    """A request the service refuses; the message says what to do instead.

    `field` names the input the message is about (a form field's name, which is also the API's
    field name where they differ only in case), or is empty for the request as a whole. Forms
    and the API put the message on that field; they never read the text to guess it.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

"""Errors a patient reader raises: the message says what is wrong and what to do next."""


class PatientReadError(ValueError):
    """A patient file or note that can't be read."""

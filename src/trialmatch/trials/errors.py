"""Errors raised while turning source records into Trials."""


class RecordError(ValueError):
    """A source record that can't become a Trial; the message says why and where."""

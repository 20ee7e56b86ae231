"""Placeholder: being written."""


def analyze(ctx):
    return []

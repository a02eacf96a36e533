"""A small module with tests of every kind of outcome (the Gantry quality-gate demo)."""
import os


def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a / b


def percent(part, whole):
    return 100 * part / whole


def unused_helper(value):
    if value > 10:
        return "big"
    return "small"

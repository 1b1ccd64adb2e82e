"""Docstring parsing: the description and parameter sections of each style."""

from realtime_widget.tools.docstrings import parse_docstring


def test_google_section_gives_descriptions_with_continuation_lines():
    doc = """Look up the weather.

    Uses the local cache first.

    Args:
        city (str): The city
            name, in English.
        unit: Either "C" or "F".

    Returns:
        dict: The weather.
    """
    parsed = parse_docstring(doc)
    assert parsed.description == "Look up the weather.\n\nUses the local cache first."
    assert parsed.params == {"city": "The city name, in English.", "unit": 'Either "C" or "F".'}


def test_google_keyword_args_and_starred_names_are_read():
    doc = """Summary.

    Arguments:
        x: First.
    Keyword Args:
        **flag: Second.
    """
    assert parse_docstring(doc).params == {"x": "First.", "flag": "Second."}


def test_numpy_section_gives_descriptions_and_stops_at_next_section():
    doc = """Forecast.

    Parameters
    ----------
    city : str
        Name of the city.
    lat, lon : float
        Coordinates.
    days : int, optional
        Number of days,
        at most 7.

    Returns
    -------
    dict
        Not a parameter.
    """
    parsed = parse_docstring(doc)
    assert parsed.description == "Forecast."
    assert parsed.params == {
        "city": "Name of the city.",
        "lat": "Coordinates.",
        "lon": "Coordinates.",
        "days": "Number of days, at most 7.",
    }


def test_rest_fields_give_descriptions_with_optional_type():
    doc = """Current temperature.

    :param city: The city,
        in English.
    :param str unit: Temperature unit.
    :type unit: str
    :returns: a number
    """
    parsed = parse_docstring(doc)
    assert parsed.description == "Current temperature."
    assert parsed.params == {"city": "The city, in English.", "unit": "Temperature unit."}


def test_plain_docstring_is_all_description():
    parsed = parse_docstring("Add two numbers.\n\n    Works for floats: too.")
    assert parsed.description == "Add two numbers.\n\nWorks for floats: too."
    assert parsed.params == {}


def test_missing_docstring_gives_empty_description():
    assert parse_docstring(None).description == ""
    assert parse_docstring("   ").params == {}


def test_description_keeps_lines_that_start_with_a_sphinx_role():
    # The hand-written parser took ":meth:`reset`" at the start of a line for a reST field and
    # cut the description there.
    doc = """Connect.

    A kept conversation is replayed; call
    :meth:`reset` first to start afresh.

    Args:
        timeout: Seconds to wait.
    """
    parsed = parse_docstring(doc)
    assert parsed.description == (
        "Connect.\n\nA kept conversation is replayed; call :meth:`reset` first to start afresh."
    )
    assert parsed.params == {"timeout": "Seconds to wait."}

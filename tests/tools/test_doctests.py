"""The examples in the tools docstrings run as written."""

import doctest

import pytest

import realtime_widget.tools
import realtime_widget.tools.registry
import realtime_widget.tools.schema


@pytest.mark.parametrize(
    "module",
    [realtime_widget.tools, realtime_widget.tools.registry, realtime_widget.tools.schema],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

"""The examples in the package's docstrings run as written (doctest)."""
import doctest

import pytest

import dwconv
import dwconv._api
import dwconv._plan
import dwconv._tools


@pytest.mark.parametrize("module", [dwconv, dwconv._api, dwconv._plan, dwconv._tools],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    res = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, "no examples in %s" % module.__name__
    assert res.failed == 0

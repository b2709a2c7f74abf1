"""The one parameter-validation mechanism: accepted forms, coercion and the message shape."""

from __future__ import annotations

import numpy as np
import pytest

from iqnas._validation import (
    Boolean,
    Check,
    InstanceOf,
    Interval,
    Options,
    check_value,
    validate,
    validate_params,
)
from iqnas.errors import InputError


def test_interval_ends_and_kinds():
    closed = Interval("real", 0, 1)
    assert closed.accepts(0) and closed.accepts(1.0) and closed.accepts(np.float64(0.5))
    assert not closed.accepts(-1e-12) and not closed.accepts(1.0000001)
    left = Interval("real", 0, None, closed="left")
    assert left.accepts(0) and left.accepts(1e300) and not left.accepts(float("inf"))
    assert not Interval("real", 0, None, closed="neither").accepts(0)
    assert not Interval("real", None, 1, closed="left").accepts(1)
    ints = Interval("int", 1, None)
    assert ints.accepts(3) and ints.accepts(np.int64(3)) and not ints.accepts(3.0)
    for bad in (True, "3", None, float("nan")):
        assert not ints.accepts(bad) and not closed.accepts(bad)
    assert check_value(np.int32(4), [ints], "k", "f()") == 4
    assert type(check_value(np.int32(4), [ints], "k", "f()")) is int
    assert type(check_value(1, [closed], "x", "f()")) is float


def test_message_shape_names_parameter_owner_range_and_value():
    with pytest.raises(InputError) as err:
        check_value(-1, [Interval("real", 0, None, closed="left"), None], "alpha",
                    "QuadraticRegressor")
    assert str(err.value) == ("The 'alpha' parameter of QuadraticRegressor must be a float in "
                              "the range [0, inf) or None. Got -1 instead.")
    with pytest.raises(InputError, match=r"must be one of 'linear', 'pairwise'\. Got 'cubic'"):
        check_value("cubic", [Options(("linear", "pairwise"))], "terms", "QuadraticRegressor")
    with pytest.raises(InputError, match=r"an int in the range \[1, inf\)\. Got 0 instead"):
        check_value(0, [Interval("int", 1, None)], "population", "Evolution")


def test_options_are_type_strict_and_none_only_when_listed():
    assert check_value("rea", [Options(("rea", "binas"))], "mode", "Evolution") == "rea"
    with pytest.raises(InputError):
        check_value(1, [Options((True, False))], "flag", "X")  # 1 == True but not a bool
    with pytest.raises(InputError, match="Got None instead"):
        check_value(None, [Interval("int", 0, None)], "seed", "X")
    assert check_value(None, [Interval("int", 0, None), None], "seed", "X") is None


def test_other_forms():
    assert check_value(np.bool_(True), [Boolean()], "b", "X") is True
    assert check_value(len, [callable], "fn", "X") is len
    assert check_value({"a": 1}, [dict], "d", "X") == {"a": 1}
    with pytest.raises(InputError, match="must be an instance of dict"):
        check_value([1], [InstanceOf(dict)], "d", "X")
    even = Check(lambda v: v % 2 == 0, "an even number")
    assert check_value(4, [even], "n", "X") == 4
    with pytest.raises(InputError, match="must be an even number"):
        check_value("x", [even], "n", "X")  # the predicate's TypeError is a mismatch


def test_validate_rejects_unknown_names_and_coerces():
    spec = {"population": [Interval("int", 2, None)], "mutation": [Interval("real", 0, 1)]}
    assert validate({"population": np.int64(50)}, spec, "Evolution") == {"population": 50}
    with pytest.raises(InputError, match="Evolution has no parameter\\(s\\) 'populaton'; its "
                                         "parameters are population, mutation"):
        validate({"populaton": 50}, spec, "Evolution")


def test_validate_params_decorator_checks_defaults_and_calls():
    @validate_params({"n": [Interval("int", 1, None)], "mode": [Options(("a", "b"))]})
    def f(n, mode="a", other=None):
        return n, mode, other

    assert f(np.int64(2)) == (2, "a", None)
    assert f(3, mode="b", other=object())[1] == "b"
    with pytest.raises(InputError, match=r"The 'n' parameter of f\(\) must be an int"):
        f(0)
    with pytest.raises(InputError, match="f\\(\\): "):
        f()  # a missing argument is an InputError too
    with pytest.raises(TypeError):
        validate_params({"nope": [int]})(lambda n: n)


def test_finite_vector_names_the_first_entry_that_is_not_a_finite_number():
    from iqnas._validation import finite_vector

    np.testing.assert_array_equal(finite_vector(["1", 2, np.float32(3)], "y"), [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match=r"^y\[1\] is 'abc', not a number; drop rows"):
        finite_vector([1.0, "abc", None], "y")
    with pytest.raises(InputError, match=r"^y\[2\] is nan; fix it$"):
        finite_vector([1.0, 2.0, None], "y", "fix it")  # None is a missing value: NaN
    with pytest.raises(InputError, match=r"^y\[0\] is inf;"):
        finite_vector(np.array([np.inf]), "y")

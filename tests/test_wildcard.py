import re

from hypothesis import given
from hypothesis import strategies as st

from ctlint.wildcard import compile_pattern, matches


def test_star_and_question_mark():
    assert matches("s3:Get*", "s3:GetObject")
    assert matches("s3:Get*", "s3:Get")
    assert not matches("s3:Get*", "s3:PutObject")
    assert matches("s3:GetObjec?", "s3:GetObject")
    assert not matches("s3:GetObjec?", "s3:GetObjects")
    assert matches("*", "anything:At-All")
    assert matches("*:*", "ec2:RunInstances")


def test_case_insensitive():
    assert matches("S3:GETOBJECT", "s3:GetObject")
    assert matches("s3:get*", "S3:GetObject")


def test_brackets_and_regex_characters_are_literal():
    assert not matches("s3:[GP]etObject", "s3:GetObject")
    assert matches("s3:[GP]etObject", "s3:[GP]etObject")
    assert matches("a.b+c(d)|e^$\\", "a.b+c(d)|e^$\\")
    assert not matches("a.b", "axb")


def test_whole_value_is_anchored():
    assert not matches("s3:Get", "s3:GetObject")
    assert not matches("Get*", "s3:GetObject")
    assert not matches("s3:*Object", "s3:GetObject\n")


def test_compile_pattern_is_cached_and_collapses_stars():
    assert compile_pattern("a**b") is compile_pattern("a**b")
    assert compile_pattern("a**b").pattern == compile_pattern("a*b").pattern
    assert isinstance(compile_pattern("x"), re.Pattern)


@given(st.text(alphabet="abc:*?[]", max_size=8), st.text(alphabet="abcAB:[]", max_size=8))
def test_agrees_with_a_reference_matcher(pattern, value):
    def reference(p: str, v: str) -> bool:  # textbook recursive glob with only * and ?
        if not p:
            return not v
        if p[0] == "*":
            return reference(p[1:], v) or (bool(v) and reference(p, v[1:]))
        return bool(v) and (p[0] == "?" or p[0].lower() == v[0].lower()) and reference(p[1:], v[1:])

    assert matches(pattern, value) == reference(pattern, value)

"""The JSON report's fast finding writer produces exactly what the generic encoder produces."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from report_factory import make_finding

from ctlint.model import Level, SourceLocation
from ctlint.report.json_report import _compact, finding_dict, finding_line

# Any text, including quotes, backslashes, control characters, non-ASCII and U+2028.
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
optional = st.none() | texts
locations = st.none() | st.builds(SourceLocation, path=texts, line=st.integers(min_value=1, max_value=10**6))
properties = st.none() | st.dictionaries(texts, st.integers() | texts | st.booleans(), max_size=3)


@settings(max_examples=300, deadline=None)
@given(
    action=optional, role=optional, access_level=optional, baseline=optional, reason=optional,
    location=locations, props=properties, message=texts, principal=texts,
    level=st.sampled_from(list(Level)),
)
def test_finding_line_equals_the_generic_encoder(action, role, access_level, baseline, reason, location, props,
                                                 message, principal, level):
    finding = make_finding(
        action=action, role=role, access_level=access_level, baseline=baseline, suppressed_reason=reason,
        location=location, message=message, principal=principal, level=level,
        **({"properties": props} if props is not None else {}),
    )
    line = finding_line(finding)
    assert line == _compact(finding_dict(finding))
    assert json.loads(line) == finding_dict(finding)

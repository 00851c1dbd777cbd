"""Plain-language cataloguing: from an uploaded table's profile, suggest every catalogue field of
政务信息资源目录编制指南 so the holder only confirms, and types at most five things.

Clerks could not answer the old forms (charset codes, DICOM vs NIfTI, "blood-line" causality): here
the system infers title, summary, category, tags, update cycle and sharing from the file name and
the profile, and asks only what it cannot infer, in plain words. Pure functions, no database:

- `suggest()` for the confirmation page, `validate()` for what the holder sends back;
- `load_tree()` / `category_choices()` for the shipped category tree (data/categories.json);
- `label()`, `sharing_label()`, `open_label()` for the Chinese names of the coded values.

Private modules, in the order a table passes through them: `_fields` (coded values and their names),
`_tree` (the category tree), `_words` (file-name and column vocabulary), `_profile` (what the profile
says about time, place and indicators; category scoring), `_suggest`, `_validate`.
"""

from __future__ import annotations

from listings.catalogue._fields import (  # noqa: F401
    CONDITION_MAX,
    GRADES,
    LOW_CONFIDENCE,
    MAX_QUESTIONS,
    OPEN_TYPES,
    SHARING_TYPES,
    SUGGESTED_TAGS_MAX,
    SUMMARY_MAX,
    TAG_MAX_CHARS,
    TAGS_MAX,
    TITLE_MAX,
    TITLE_MIN,
    UPDATE_CYCLES,
    label,
    open_label,
    sharing_label,
)
from listings.catalogue._suggest import suggest  # noqa: F401
from listings.catalogue._tree import browse, category_choices, category_path, load_tree  # noqa: F401
from listings.catalogue._validate import validate  # noqa: F401

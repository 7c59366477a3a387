"""The exercise format: the instructors' contract (see exercises/README.md).

From the bottom up: ``schema`` (the typed models), ``prompts`` (placeholders and
filling a learner's prompt), ``locations`` (lines in a YAML file), ``checks``
(rule checks and their plain-language failures), ``validation`` (what pydantic
cannot see), ``loading`` (a file into the schema, every problem as file:line)
and ``catalog`` (every file under a folder, broken ones kept aside).
Import from the module that defines a name; this package re-exports nothing.
"""

"""What crosses the layers: workflow ids, inputs and results, shared by workflows, activities and
entry points.

A neutral layer below ``workflows/`` and ``activities/`` (it imports ``domain/`` and pydantic
only), so that an activity that starts a workflow, or an entry point that sends it an Update,
needs none of the workflow code. See docs/architecture.md.
"""

"""The use cases, one module each: plan, apply, migrate (and its --finish),
refresh, import, check (and doctor). Each takes a reporter/prompter and returns a
typed result; none prints: ``reconciler.cli`` parses and calls them,
``reconciler.render`` turns their results into text, JSON and Markdown.

``workflow`` holds the steps they share (find the files, open the client, list,
plan); ``adoption`` decides what ``import`` adopts and edits the manifest text;
``inventory`` classifies the organisation's clones for ``list``; ``samples``
fetches the new clones' samples after an apply.
"""

"""Test helpers for realtime_widget and for users' own tests.

``schema`` validates events against OpenAI's Realtime schemas (copied into ``spec/`` with their
provenance); other modules here provide pytest fixtures, the embedded server and scripted brains.
"""

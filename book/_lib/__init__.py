"""Helpers of the book (not part of recsys_ref): cached experiments, uncertainty, glued numbers."""

"""Evaluation: the paper's metrics on prediction files and models, reports and plots."""

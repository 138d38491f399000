"""tests/ui"""

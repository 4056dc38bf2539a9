"""Renderers turn analysis results into terminal tables, JSON, HTML and charts; they never compute."""

"""prompt-sandbox: an offline practice ground for prompt engineering.

This package holds all the logic and never imports Streamlit; the web pages
live in ``sandbox_ui`` and only call into here.
"""

__version__ = "0.1.0"

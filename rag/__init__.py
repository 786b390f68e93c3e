"""Offline multilingual question answering with checked citations.

`core` holds the foundations every part uses (settings, errors, the Ollama client,
offline guards); `index` turns files into searchable chunks; `rag` holds retrieval,
answering, citations and the CLI; `ui` is the Gradio front end.
"""

__version__ = "0.1.0"

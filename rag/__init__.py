"""Offline multilingual question answering with checked citations.

`rag` holds what is shared by every part (settings, errors, the Ollama client, offline
guards) plus retrieval, answering, citations and the CLI. `index` turns files into
searchable chunks; `ui` is the Gradio front end.
"""

__version__ = "0.1.0"

"""The foundations both `index` and `rag` use: settings, the error family, the offline
guards, and the Ollama transport (the typed client and Ollama's own config parsing).

`core` imports nothing from `index`, `rag` or `ui`; `index` imports from `core` only, never
from `rag` or `ui` (tests/test_layers.py keeps it so).
"""
